/** GET /api/v1/usage: totals over a range, optionally grouped by key, environment or operation. */
import { Hono } from 'hono';
import type { AppEnv } from '../auth/app-env.ts';
import { requireAuth } from '../auth/middleware.ts';
import type { Deps } from '../deps.ts';
import type { ApiOperation } from '../http/api-operation.ts';
import { iso } from '../timestamps.ts';
import { parseRangeQuery, RangeQuerySchema } from './range.ts';
import { groupedSeries, type Point, totalSeries } from './series.ts';

export const pointsView = (points: Point[]) => points.map((p) => ({ ...p, ts: iso(p.ts) }));

export const usageApi: ApiOperation[] = [
  {
    method: 'get',
    path: '/',
    summary: 'Usage totals over a range, optionally grouped by key, environment or operation',
    scope: 'read',
    query: RangeQuerySchema,
  },
];

export function usageRoutes(deps: Deps) {
  return new Hono<AppEnv>().get('/', requireAuth(deps, 'read'), (c) => {
    const range = parseRangeQuery(c.req.query(), deps.clock.now());
    const body = {
      from: iso(range.from),
      to: iso(range.to),
      step: range.step,
      points: pointsView(totalSeries(deps.sqlite, range)),
    };
    if (!range.group) return c.json(body);
    const groups = groupedSeries(deps.sqlite, range, range.group).map((g) => ({
      ...g,
      points: pointsView(g.points),
    }));
    return c.json({ ...body, group: range.group, groups });
  });
}
