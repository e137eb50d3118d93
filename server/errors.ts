/** Typed errors thrown by verbs; the HTTP layer and the CLI map them, verbs never import Hono. */
export type Issue = { path: string; message: string };

export class AppError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 500 | 502 | 503,
    readonly code: string,
    message: string,
    readonly issues?: Issue[],
  ) {
    super(message);
  }
}

export const validationError = (issues: Issue[], message = 'The request is invalid.') =>
  new AppError(400, 'validation_failed', message, issues);
export const notFound = (what: string) => new AppError(404, 'not_found', `${what} was not found.`);
export const conflict = (message: string) => new AppError(409, 'conflict', message);
export const unauthorized = (message = 'Missing or unknown credentials.') =>
  new AppError(401, 'unauthorized', message);
export const forbidden = (message: string) => new AppError(403, 'forbidden', message);

/**
 * Turns zod issues into our `{path, message}` list (`events.3.credits`). An unknown field is
 * reported by zod on its parent object, so it becomes one issue per field, at the field's path.
 */
export function issuesFromZod(
  zodIssues: ReadonlyArray<{
    path: ReadonlyArray<PropertyKey>;
    message: string;
    code?: string;
    keys?: readonly string[];
  }>,
  prefix: string[] = [],
): Issue[] {
  const pathOf = (path: ReadonlyArray<PropertyKey>) => [...prefix, ...path.map(String)].join('.') || '(body)';
  return zodIssues.flatMap((i) =>
    i.code === 'unrecognized_keys' && i.keys && i.keys.length > 0
      ? i.keys.map((key) => ({ path: pathOf([...i.path, key]), message: `Unrecognized key: "${key}"` }))
      : [{ path: pathOf(i.path), message: i.message }],
  );
}
