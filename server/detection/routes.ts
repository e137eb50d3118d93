/**
 * Detection's HTTP surface: detect/run, rules and backtest. Backtests run on their worker thread,
 * one at a time per user or token: a second one while the first runs gets 429 with Retry-After.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../auth/app-env.ts';
import { limitInFlight } from '../auth/in-flight.ts';
import { requireAuth } from '../auth/middleware.ts';
import type { Deps } from '../deps.ts';
import { issuesFromZod, validationError } from '../errors.ts';
import type { ApiOperation } from '../http/api-operation.ts';
import { limitBody, readJson } from '../http/body.ts';
import { createTaskWorker } from '../http/task-worker.ts';
import type { IncidentListener } from '../incidents/events.ts';
import { iso, TimestampSchema } from '../timestamps.ts';
import { BacktestSchema, backtestTasks, parseBacktest } from './backtest.ts';
import { RULE_KINDS } from './core/params.ts';
import { listRules, PutRuleSchema, putRule } from './rules.ts';
import { type DetectionRunner, inThreadRunner } from './runner.ts';

const BODY_LIMIT = 64 * 1024;
const RunSchema = z.strictObject({ until: TimestampSchema.optional() });
const RunResultSchema = z.object({ evaluated_until: z.iso.datetime(), incidents_opened: z.number().int() });
/**
 * One backtest at a time per user or token, four at once in all (each holds seconds of a worker's
 * CPU); a refused caller is told to wait about as long as a 30-day backtest takes.
 */
const BACKTESTS_IN_FLIGHT = { work: 'backtests', perCaller: 1, total: 4, retryAfterS: 5 };

export const detectionApi: ApiOperation[] = [
  {
    method: 'post',
    path: '/detect/run',
    summary: 'Judge every closed bucket up to `until` (default now) not yet judged',
    scope: 'admin',
    body: RunSchema,
    bodyOptional: true,
    response: RunResultSchema,
  },
  { method: 'get', path: '/rules', summary: 'Detection tunables, global and per key', scope: 'read' },
  {
    method: 'put',
    path: '/rules/:kind',
    summary: 'Set a rule globally or for one key',
    scope: 'admin',
    params: z.object({ kind: z.enum(RULE_KINDS) }),
    body: PutRuleSchema,
  },
  {
    method: 'post',
    path: '/backtest',
    summary: 'How often a rule would have fired (nothing written)',
    scope: 'read',
    body: BacktestSchema,
    errors: [429],
  },
];

/** `runner`: the server's detection worker; by default detection runs in this thread. */
export function detectionRoutes(deps: Deps, listener?: IncidentListener, runner?: DetectionRunner) {
  const detection = runner ?? inThreadRunner(deps, listener);
  // Started on the first backtest; idle, it does not keep the process alive.
  const backtests = createTaskWorker(deps, new URL('./backtest-worker.ts', import.meta.url), backtestTasks);
  const oneBacktestEach = limitInFlight(BACKTESTS_IN_FLIGHT);
  return new Hono<AppEnv>()
    .post('/detect/run', requireAuth(deps, 'admin'), limitBody(BODY_LIMIT), async (c) => {
      const parsed = RunSchema.safeParse((await readJson(c, { optional: true })) ?? {});
      if (!parsed.success) throw validationError(issuesFromZod(parsed.error.issues));
      const r = await detection.run(parsed.data.until !== undefined ? { until: parsed.data.until } : {});
      return c.json({ evaluated_until: iso(r.evaluated_until), incidents_opened: r.incidents_opened });
    })
    .get('/rules', requireAuth(deps, 'read'), async (c) => c.json({ rules: await listRules(deps.db) }))
    .put('/rules/:kind', requireAuth(deps, 'admin'), limitBody(BODY_LIMIT), async (c) => {
      const rule = await putRule(deps, c.req.param('kind'), await readJson(c), c.get('principal').actor);
      return c.json({ rule });
    })
    .post('/backtest', requireAuth(deps, 'read'), oneBacktestEach.admit, limitBody(BODY_LIMIT), async (c) => {
      const input = parseBacktest(await readJson(c));
      return c.body(await backtests.run('backtestJson', input), 200, { 'content-type': 'application/json' });
    });
}
