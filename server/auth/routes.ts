/** /api/v1/users, /api/v1/tokens and /api/v1/audit: the people and credentials behind the dashboard. */
import { Hono } from 'hono';
import { z } from 'zod';
import { listAudit } from '../audit/list.ts';
import { SCOPES } from '../db/schema/index.ts';
import type { Deps } from '../deps.ts';
import { issuesFromZod, validationError } from '../errors.ts';
import type { ApiOperation } from '../http/api-operation.ts';
import { limitBody, readJson } from '../http/body.ts';
import type { AppEnv } from './app-env.ts';
import { requireAuth } from './middleware.ts';
import { createApiToken, listApiTokens, revokeApiToken } from './tokens.ts';
import { addUser, listUsers, NewUserSchema } from './users.ts';

const BODY_LIMIT = 16 * 1024;

const NewTokenSchema = z.strictObject({
  name: z.string().trim().min(1).max(100),
  scopes: z.array(z.enum(SCOPES)).min(1).max(3),
});
const AuditQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  before: z.coerce.number().int().positive().optional(),
});
const IdSchema = z.coerce.number().int().positive();

export const usersApi: ApiOperation[] = [
  { method: 'get', path: '/', summary: 'Dashboard users', scope: 'admin' },
  {
    method: 'post',
    path: '/',
    summary: 'Add a user; a generated password is returned once',
    scope: 'admin',
    body: NewUserSchema,
    status: 201,
    errors: [409],
  },
];

export const tokensApi: ApiOperation[] = [
  { method: 'get', path: '/', summary: 'API tokens (stored hashed)', scope: 'admin' },
  {
    method: 'post',
    path: '/',
    summary: 'Create an API token; the token is returned once',
    scope: 'admin',
    body: NewTokenSchema,
    status: 201,
  },
  {
    method: 'post',
    path: '/:id/revoke',
    summary: 'Revoke a token at once',
    scope: 'admin',
    params: z.object({ id: IdSchema }),
  },
];

export const auditApi: ApiOperation[] = [
  { method: 'get', path: '/', summary: 'Audit log, newest first', scope: 'admin', query: AuditQuerySchema },
];

function parse<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw validationError(issuesFromZod(parsed.error.issues));
  return parsed.data;
}

export function usersRoutes(deps: Deps) {
  return new Hono<AppEnv>()
    .use(requireAuth(deps, 'admin'))
    .get('/', async (c) => c.json({ users: await listUsers(deps) }))
    .post('/', limitBody(BODY_LIMIT), async (c) => {
      const input = parse(NewUserSchema, await readJson(c));
      const { user, password, generated } = await addUser(deps, input, c.get('principal').actor);
      // A generated password is shown once, here; a chosen one is never echoed back.
      return c.json({ user, ...(generated && { password }) }, 201);
    });
}

export function tokensRoutes(deps: Deps) {
  return new Hono<AppEnv>()
    .use(requireAuth(deps, 'admin'))
    .get('/', async (c) => c.json({ tokens: await listApiTokens(deps) }))
    .post('/', limitBody(BODY_LIMIT), async (c) => {
      const input = parse(NewTokenSchema, await readJson(c));
      const { token, view } = await createApiToken(deps, { ...input, actor: c.get('principal').actor });
      return c.json({ token, api_token: view }, 201);
    })
    .post('/:id/revoke', async (c) => {
      const id = parse(IdSchema, c.req.param('id'));
      return c.json({ api_token: await revokeApiToken(deps, id, c.get('principal').actor) });
    });
}

export function auditRoutes(deps: Deps) {
  return new Hono<AppEnv>().get('/', requireAuth(deps, 'admin'), async (c) => {
    const query = parse(AuditQuerySchema, c.req.query());
    return c.json({ entries: await listAudit(deps, query) });
  });
}
