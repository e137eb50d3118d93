/** /api/v1/keys: list, register, edit, revoke, and each key's usage series. */
import { Hono } from 'hono';
import type { AppEnv } from '../auth/app-env.ts';
import { requireAuth } from '../auth/middleware.ts';
import type { Deps } from '../deps.ts';
import { limitBody, readJson } from '../http/body.ts';
import { iso } from '../timestamps.ts';
import { parseRangeQuery } from '../usage/range.ts';
import { pointsView } from '../usage/routes.ts';
import { keySeries } from '../usage/series.ts';
import { createKey, getKey, listKeys, revokeKey, toKeyView, updateKey } from './keys.ts';
import { readRotation, startRotation } from './rotation.ts';

const BODY_LIMIT = 64 * 1024;

export function keysRoutes(deps: Deps) {
  const keyDeps = { db: deps.db, clock: deps.clock, secret: deps.config.secret };
  return (
    new Hono<AppEnv>()
      .use(requireAuth(deps))
      .get('/', (c) => c.json({ keys: listKeys(deps) }))
      .post('/', limitBody(BODY_LIMIT), async (c) => {
        const key = createKey(keyDeps, await readJson(c), c.get('principal').actor);
        return c.json({ key, ...key }, 201);
      })
      .get('/:id', (c) => {
        const key = toKeyView(getKey(deps, c.req.param('id')));
        return c.json({ key, ...key });
      })
      .patch('/:id', limitBody(BODY_LIMIT), async (c) => {
        const key = updateKey(keyDeps, c.req.param('id'), await readJson(c), c.get('principal').actor);
        return c.json({ key, ...key });
      })
      .post('/:id/revoke', limitBody(BODY_LIMIT), async (c) => {
        const body = await readJson(c, { optional: true });
        const key = revokeKey(keyDeps, c.req.param('id'), body, c.get('principal').actor);
        return c.json({ key, ...key });
      })
      // Rotation: pair with the replacement, then watch the old key's clients move over.
      .post('/:id/rotation', limitBody(BODY_LIMIT), async (c) => {
        const rotation = startRotation(deps, c.req.param('id'), await readJson(c), c.get('principal').actor);
        return c.json(rotation, 201);
      })
      .get('/:id/rotation', (c) => c.json(readRotation(deps, c.req.param('id'))))
      .get('/:id/usage', (c) => {
        const key = getKey(deps, c.req.param('id'));
        const range = parseRangeQuery(c.req.query(), deps.clock.now());
        return c.json({
          key: toKeyView(key),
          from: iso(range.from),
          to: iso(range.to),
          step: range.step,
          points: pointsView(keySeries(deps.sqlite, key.id, range)),
        });
      })
  );
}
