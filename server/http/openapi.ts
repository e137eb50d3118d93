/**
 * Builds the OpenAPI 3.1 document from the routes' own operation declarations. zod 4 emits JSON
 * Schema 2020-12, which is OpenAPI 3.1's schema dialect, so schemas go in unchanged: request schemas
 * as the client writes them (`io: "input"`: defaults optional, coercions as their input type).
 */
import { z } from 'zod';
import { VERSION } from '../paths.ts';
import type { ApiOperation } from './api-operation.ts';

export const JSON_SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema';

export const ErrorBodySchema = z.object({
  error: z.object({
    code: z.string().meta({ description: 'snake_case, stable' }),
    message: z.string().meta({ description: 'A human sentence.' }),
    issues: z
      .array(z.object({ path: z.string(), message: z.string() }))
      .optional()
      .meta({ description: 'Validation only: every bad field, by its dotted path.' }),
  }),
});

const ERROR_TEXT: Record<number, string> = {
  400: 'Invalid input; `issues` names every bad field.',
  401: 'Missing, unknown or revoked credentials.',
  403: 'The credentials lack the scope or role (or, with a session cookie, the CSRF token).',
  404: 'Unknown resource.',
  409: 'Conflict with the current state.',
  413: 'Body too large.',
  415: 'Body is not JSON.',
  429: 'Rate limited; see `Retry-After`.',
  503: 'Storage is unavailable or full; retry later.',
};

type JsonSchema = Record<string, unknown>;
export type OpenApiDocument = {
  openapi: '3.1.0';
  jsonSchemaDialect: string;
  info: { title: string; version: string; description: string };
  servers?: { url: string }[];
  tags: { name: string }[];
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: { schemas: Record<string, JsonSchema>; securitySchemes: Record<string, JsonSchema> };
};
export type OpenApiParameter = {
  name: string;
  in: 'path' | 'query';
  required: boolean;
  description?: string;
  schema: JsonSchema;
};
export type OpenApiOperation = {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  security: Record<string, string[]>[];
  'x-keywatch-scope': string | null;
  parameters: OpenApiParameter[];
  requestBody?: { required: boolean; content: { 'application/json': { schema: JsonSchema } } };
  responses: Record<
    string,
    { description: string; content?: { 'application/json': { schema: JsonSchema } } }
  >;
};

/** A zod schema as a JSON Schema to embed: no `$schema`, anything unrepresentable (a refinement) left open. */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
  }) as JsonSchema;
  return rest;
}

/** `/api/v1/keys/:id/usage` → `/api/v1/keys/{id}/usage`, and the parameter names in order. */
export function openApiPath(path: string): { path: string; params: string[] } {
  const params: string[] = [];
  const converted = path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, (_m, name: string) => {
    params.push(name);
    return `{${name}}`;
  });
  return { path: converted, params };
}

function operationId(method: string, path: string): string {
  const words = path
    .replace(/^\/api\/v1\/?/, '')
    .split(/[/._-]+/)
    .filter(Boolean)
    .map((w) => (w.startsWith(':') ? `By${cap(w.slice(1))}` : cap(w)));
  return method + words.join('');
}
const cap = (w: string) => w.charAt(0).toUpperCase() + w.slice(1);

function parametersOf(op: ApiOperation, pathParams: string[]): OpenApiParameter[] {
  const out: OpenApiParameter[] = pathParams.map((name) => {
    const declared = op.params?.shape[name] as z.ZodType | undefined;
    return {
      name,
      in: 'path',
      required: true,
      schema: declared ? jsonSchemaOf(declared, 'input') : { type: 'string' },
    };
  });
  for (const [name, field] of Object.entries(op.query?.shape ?? {}) as [string, z.ZodType][]) {
    const schema = jsonSchemaOf(field, 'input');
    const description = typeof schema.description === 'string' ? schema.description : undefined;
    out.push({
      name,
      in: 'query',
      // A field that accepts nothing at all (optional or defaulted) is not required.
      required: !field.safeParse(undefined).success,
      ...(description && { description }),
      schema,
    });
  }
  return out;
}

function errorStatuses(op: ApiOperation, pathParams: string[]): number[] {
  const statuses = new Set<number>(op.errors ?? []);
  if (op.query || op.body || op.params) statuses.add(400);
  if (op.scope) {
    statuses.add(401);
    statuses.add(403);
  }
  if (pathParams.length > 0) statuses.add(404);
  if (op.body) {
    statuses.add(413);
    statuses.add(415);
  }
  return [...statuses].sort((a, b) => a - b);
}

function buildOperation(op: ApiOperation): { path: string; operation: OpenApiOperation } {
  const { path, params } = openApiPath(op.path);
  const status = op.status ?? 200;
  const responses: OpenApiOperation['responses'] = {
    [String(status)]:
      status === 204
        ? { description: 'Done; no body.' }
        : {
            description: 'Success.',
            content: {
              'application/json': {
                schema: op.response ? jsonSchemaOf(op.response, 'output') : { type: 'object' },
              },
            },
          },
  };
  for (const code of errorStatuses(op, params)) {
    responses[String(code)] = {
      description: ERROR_TEXT[code] ?? 'Error.',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    };
  }
  const tag = path.replace(/^\/api\/v1\/?/, '').split('/')[0] || 'api';
  return {
    path,
    operation: {
      operationId: operationId(op.method, op.path),
      summary: op.summary,
      ...(op.description && { description: op.description }),
      tags: [tag],
      // OpenAPI 3.1 lets non-OAuth schemes list roles: the token scope a call needs.
      security: op.scope ? [{ bearerToken: [op.scope] }, { sessionCookie: [] }] : [],
      'x-keywatch-scope': op.scope,
      parameters: parametersOf(op, params),
      ...(op.body && {
        requestBody: {
          required: !op.bodyOptional,
          content: { 'application/json': { schema: jsonSchemaOf(op.body, 'input') } },
        },
      }),
      responses,
    },
  };
}

export function buildOpenApiDocument(
  operations: readonly ApiOperation[],
  info: { version: string; serverUrl?: string; sessionCookie: string; csrfHeader: string },
): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {};
  for (const op of operations) {
    const { path, operation } = buildOperation(op);
    const item = paths[path] ?? {};
    if (item[op.method]) throw new Error(`Two declarations of ${op.method.toUpperCase()} ${op.path}`);
    item[op.method] = operation;
    paths[path] = item;
  }
  const tags = [
    ...new Set(Object.values(paths).flatMap((item) => Object.values(item).flatMap((o) => o.tags))),
  ];
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: JSON_SCHEMA_DIALECT,
    info: {
      title: 'Keywatch API',
      version: info.version,
      description:
        'Per-key credit spend of a usage-billed API, incidents and alerts. Timestamps in requests: ISO-8601 with an offset or epoch milliseconds; in answers: ISO-8601 UTC with milliseconds.',
    },
    ...(info.serverUrl && { servers: [{ url: info.serverUrl }] }),
    tags: tags.sort().map((name) => ({ name })),
    paths,
    components: {
      schemas: { Error: jsonSchemaOf(ErrorBodySchema, 'output') },
      securitySchemes: {
        bearerToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'An API token (scopes ingest, read, admin), created by an admin.',
        },
        sessionCookie: {
          type: 'apiKey',
          in: 'cookie',
          name: info.sessionCookie,
          description: `The dashboard's session; writes also need the ${info.csrfHeader} header.`,
        },
      },
    },
  };
}

/** The document, built on first use (converting every schema costs start-up time) and kept. */
export function lazyApiDocument(
  operations: readonly ApiOperation[],
  info: { sessionCookie: string; csrfHeader: string; serverUrl?: string },
): () => OpenApiDocument {
  let document: OpenApiDocument | undefined;
  return () => {
    document ??= buildOpenApiDocument(operations, { ...info, version: VERSION });
    return document;
  };
}
