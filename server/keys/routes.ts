/** /api/v1/keys: list, register, edit, revoke, and each key's usage series. */
import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../auth/app-env.ts';
import { requireAuth } from '../auth/middleware.ts';
import type { Deps } from '../deps.ts';
import type { ApiOperation } from '../http/api-operation.ts';
import { limitBody, readJson } from '../http/body.ts';
import { sentThen } from '../http/sent-then.ts';
import type { TaskWorker } from '../http/task-worker.ts';
import { iso } from '../timestamps.ts';
import { parseRangeQuery, RangeQuerySchema } from '../usage/range.ts';
import { pointsView, SeriesSchema } from '../usage/routes.ts';
import { keySeries } from '../usage/series.ts';
import type { keyReadTasks } from './key-reads.ts';
import {
  createKey,
  getKey,
  KeyPatchSchema,
  KeyViewSchema,
  NewKeySchema,
  RevokeSchema,
  revokeKey,
  toKeyView,
  updateKey,
} from './keys.ts';
import { StartRotationSchema, startRotation } from './rotation.ts';

const BODY_LIMIT = 64 * 1024;

/** One key: under `key`, and (as the first release answered) its fields at the top level too. */
const OneKeySchema = KeyViewSchema.extend({ key: KeyViewSchema });

export const keysApi: ApiOperation[] = [
  {
    method: 'get',
    path: '/',
    summary: 'List watched keys',
    scope: 'read',
    errors: [429],
    response: z.object({ keys: z.array(KeyViewSchema) }),
  },
  {
    method: 'post',
    path: '/',
    summary: 'Register a key',
    description: '`secret`, when given, is reduced at once to its fingerprint and last 4 characters.',
    scope: 'admin',
    body: NewKeySchema,
    status: 201,
    response: OneKeySchema,
    errors: [409],
  },
  { method: 'get', path: '/:id', summary: 'One key (by id or name)', scope: 'read', response: OneKeySchema },
  {
    method: 'patch',
    path: '/:id',
    summary: 'Edit a key',
    scope: 'admin',
    body: KeyPatchSchema,
    response: OneKeySchema,
    errors: [409],
  },
  {
    method: 'post',
    path: '/:id/revoke',
    summary: 'Revoke a key from `at` (default now); later use is an incident',
    scope: 'admin',
    body: RevokeSchema,
    bodyOptional: true,
    response: OneKeySchema,
  },
  {
    method: 'get',
    path: '/:id/usage',
    summary: "One key's usage series",
    scope: 'read',
    // Group paging (limit, cursor, top) is for the grouped usage endpoint only.
    query: RangeQuerySchema.omit({ group: true, limit: true, cursor: true, top: true }),
    response: SeriesSchema.extend({ key: KeyViewSchema }),
  },
  {
    method: 'post',
    path: '/:id/rotation',
    summary: 'Pair a key with its replacement and watch its clients move over',
    description: 'Pairing again replaces the pairing and restarts the clock.',
    scope: 'admin',
    body: StartRotationSchema,
    status: 201,
    errors: [429],
  },
  {
    method: 'get',
    path: '/:id/rotation',
    summary: "The old key's remaining clients, when each was last seen, and whether revoking is safe",
    scope: 'read',
    errors: [404, 429],
  },
];

/** The worker that runs keyReadTasks (the app's reads worker, web/dashboard-reads.ts). */
export type KeyReads = Pick<TaskWorker<typeof keyReadTasks>, 'run' | 'release'> & {
  admit: MiddlewareHandler;
};

export function keysRoutes(deps: Deps, reads: KeyReads) {
  /** A JSON body the reads worker wrote, its buffer handed back once sent. */
  const jsonFromReads = (c: Context<AppEnv>, body: Uint8Array<ArrayBuffer>, status: 200 | 201 = 200) => {
    sentThen(c, () => reads.release(body));
    return c.body(body, status, { 'content-type': 'application/json' });
  };
  const keyDeps = { db: deps.db, clock: deps.clock, secret: deps.config.secret };
  return (
    new Hono<AppEnv>()
      .use(requireAuth(deps))
      .get('/', reads.admit, async (c) => jsonFromReads(c, await reads.run('keysJson', undefined)))
      .post('/', limitBody(BODY_LIMIT), async (c) => {
        const key = await createKey(keyDeps, await readJson(c), c.get('principal').actor);
        return c.json({ key, ...key }, 201);
      })
      .get('/:id', async (c) => {
        const key = toKeyView(await getKey(deps, c.req.param('id')));
        return c.json({ key, ...key });
      })
      .patch('/:id', limitBody(BODY_LIMIT), async (c) => {
        const key = await updateKey(keyDeps, c.req.param('id'), await readJson(c), c.get('principal').actor);
        return c.json({ key, ...key });
      })
      .post('/:id/revoke', limitBody(BODY_LIMIT), async (c) => {
        const body = await readJson(c, { optional: true });
        const key = await revokeKey(keyDeps, c.req.param('id'), body, c.get('principal').actor);
        return c.json({ key, ...key });
      })
      // Rotation: pair with the replacement, then watch the old key's clients move over.
      .post('/:id/rotation', limitBody(BODY_LIMIT), reads.admit, async (c) => {
        const oldKeyId = await startRotation(
          deps,
          c.req.param('id'),
          await readJson(c),
          c.get('principal').actor,
        );
        return jsonFromReads(c, await reads.run('rotationJson', oldKeyId), 201);
      })
      .get('/:id/rotation', reads.admit, async (c) =>
        jsonFromReads(c, await reads.run('rotationJson', c.req.param('id'))),
      )
      .get('/:id/usage', async (c) => {
        const key = await getKey(deps, c.req.param('id'));
        const range = parseRangeQuery(c.req.query(), deps.clock.now());
        return c.json({
          key: toKeyView(key),
          from: iso(range.from),
          to: iso(range.to),
          step: range.step,
          points: pointsView(await keySeries(deps.db, key.id, range)),
        });
      })
  );
}
