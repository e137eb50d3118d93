/**
 * GET /api/v1/openapi.json: the OpenAPI 3.1 document of every /api/v1 route. Public, like
 * /healthz: it holds the same contract README publishes and no data, secret or configuration
 * beyond the public URL; a client generator or a gateway must be able to read it before it has a
 * token. Every operation it describes still checks its own credentials.
 */
import { Hono } from 'hono';
import type { AppEnv } from '../auth/app-env.ts';
import type { ApiOperation } from '../http/api-operation.ts';
import type { OpenApiDocument } from '../http/openapi.ts';

export const openApiSelf: ApiOperation[] = [
  {
    method: 'get',
    path: '/',
    summary: 'This OpenAPI 3.1 document (no credentials needed)',
    scope: null,
  },
];

export function openApiRoutes(document: () => OpenApiDocument) {
  return new Hono<AppEnv>().get('/', (c) => c.json(document()));
}
