/** Detection's HTTP surface: detect/run, rules and backtest. */
import { Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../auth/app-env.ts';
import { requireAuth } from '../auth/middleware.ts';
import type { Deps } from '../deps.ts';
import { issuesFromZod, validationError } from '../errors.ts';
import type { ApiOperation } from '../http/api-operation.ts';
import { limitBody, readJson } from '../http/body.ts';
import type { IncidentListener } from '../incidents/events.ts';
import { iso, TimestampSchema } from '../timestamps.ts';
import { BacktestSchema, backtest } from './backtest.ts';
import { RULE_KINDS } from './core/params.ts';
import { listRules, PutRuleSchema, putRule } from './rules.ts';
import { runDetection } from './run-detection.ts';

const BODY_LIMIT = 64 * 1024;
const RunSchema = z.strictObject({ until: TimestampSchema.optional() });
const RunResultSchema = z.object({ evaluated_until: z.iso.datetime(), incidents_opened: z.number().int() });

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
  },
];

export function detectionRoutes(deps: Deps, listener?: IncidentListener) {
  return new Hono<AppEnv>()
    .post('/detect/run', requireAuth(deps, 'admin'), limitBody(BODY_LIMIT), async (c) => {
      const parsed = RunSchema.safeParse((await readJson(c, { optional: true })) ?? {});
      if (!parsed.success) throw validationError(issuesFromZod(parsed.error.issues));
      const r = runDetection(deps, {
        ...(parsed.data.until !== undefined && { until: parsed.data.until }),
        ...(listener && { listener }),
      });
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
