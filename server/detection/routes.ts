/** Detection's HTTP surface: detect/run, rules and backtest. */
import { Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../auth/app-env.ts';
import { requireAuth } from '../auth/middleware.ts';
import type { Deps } from '../deps.ts';
import { issuesFromZod, validationError } from '../errors.ts';
import { limitBody, readJson } from '../http/body.ts';
import type { IncidentListener } from '../incidents/events.ts';
import { iso, TimestampSchema } from '../timestamps.ts';
import { backtest } from './backtest.ts';
import { listRules, putRule } from './rules.ts';
import { type DetectionRunner, inThreadRunner } from './runner.ts';

const BODY_LIMIT = 64 * 1024;
const RunSchema = z.strictObject({ until: TimestampSchema.optional() });

/** `runner`: the server's detection worker; by default detection runs in this thread. */
export function detectionRoutes(deps: Deps, listener?: IncidentListener, runner?: DetectionRunner) {
  const detection = runner ?? inThreadRunner(deps, listener);
  return new Hono<AppEnv>()
    .post('/detect/run', requireAuth(deps, 'admin'), limitBody(BODY_LIMIT), async (c) => {
      const parsed = RunSchema.safeParse((await readJson(c, { optional: true })) ?? {});
      if (!parsed.success) throw validationError(issuesFromZod(parsed.error.issues));
      const r = await detection.run(parsed.data.until !== undefined ? { until: parsed.data.until } : {});
      return c.json({ evaluated_until: iso(r.evaluated_until), incidents_opened: r.incidents_opened });
    })
    .get('/rules', requireAuth(deps, 'read'), (c) => c.json({ rules: listRules(deps.db) }))
    .put('/rules/:kind', requireAuth(deps, 'admin'), limitBody(BODY_LIMIT), async (c) => {
      const rule = putRule(deps, c.req.param('kind'), await readJson(c), c.get('principal').actor);
      return c.json({ rule });
    })
    .post('/backtest', requireAuth(deps, 'read'), limitBody(BODY_LIMIT), async (c) =>
      c.json(backtest(deps, await readJson(c))),
    );
}
