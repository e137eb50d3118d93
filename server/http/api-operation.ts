/**
 * What a route module declares about each of its /api/v1 operations, beside the routes: the same
 * zod schemas that validate the request, so the OpenAPI document cannot drift from the checks.
 */
import type { z } from 'zod';
import type { Scope } from '../db/schema/index.ts';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

export type ApiOperation = {
  method: HttpMethod;
  /** Hono syntax (`/:id/revoke`), relative to where the module is mounted until `mountedAt`. */
  path: string;
  summary: string;
  description?: string;
  /** The token scope required; `null`: no credentials (public). */
  scope: Scope | null;
  /** Path parameters that are not plain strings; the others are documented as strings. */
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** A body that may be left out entirely (`readJson(c, { optional: true })`). */
  bodyOptional?: boolean;
  /** Success status; 200 unless said. */
  status?: 200 | 201 | 202 | 204;
  /** Shape of the success answer, when it is declared as a schema. */
  response?: z.ZodType;
  /** Error statuses this operation answers beyond the ones every authenticated call can. */
  errors?: number[];
};

/** The operations of a module mounted at `prefix`, with their full paths. */
export function mountedAt(prefix: string, operations: readonly ApiOperation[]): ApiOperation[] {
  return operations.map((op) => ({ ...op, path: joinPath(prefix, op.path) }));
}

function joinPath(prefix: string, path: string): string {
  const joined = `${prefix.replace(/\/$/, '')}/${path.replace(/^\//, '')}`;
  return joined.length > 1 ? joined.replace(/\/$/, '') : joined;
}
