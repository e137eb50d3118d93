/** GET /api/v1/usage: totals over a range, optionally grouped by key, environment or operation. */
import { Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../auth/app-env.ts';
import { requireAuth } from '../auth/middleware.ts';
import type { Deps } from '../deps.ts';
import type { ApiOperation } from '../http/api-operation.ts';
import { JSON_HEADERS, jsonWithArray, streamResponse } from '../http/stream.ts';
import { iso } from '../timestamps.ts';
import { parseRangeQuery, RangeQuerySchema } from './range.ts';
import { groupedRuns, type Point, totalSeries } from './series.ts';
import { groupJsonWriter } from './series-json.ts';

/**
 * Points with ISO times. `isoOf` may be shared by every group of one answer: a thousand keys' series
 * share the same buckets, so each bucket's time is formatted once, not once per key.
 */
export const pointsView = (points: Point[], isoOf: (ms: number) => string = iso) =>
  points.map((p) => ({
    ts: isoOf(p.ts),
    credits: p.credits,
    requests: p.requests,
    errors: p.errors,
    auth_failures: p.auth_failures,
  }));

/** iso() remembered per timestamp, for one answer's shared buckets. */
export function rememberedIso(): (ms: number) => string {
  const seen = new Map<number, string>();
  return (ms) => {
    let text = seen.get(ms);
    if (text === undefined) {
      text = iso(ms);
      seen.set(ms, text);
    }
    return text;
  };
}

const PointSchema = z.object({
  ts: z.iso.datetime().meta({ description: 'Start of the bucket.' }),
  credits: z.number(),
  requests: z.number().int(),
  errors: z.number().int().meta({ description: 'Requests answered with a status of 400 or more.' }),
  auth_failures: z.number().int(),
});
export const SeriesSchema = z.object({
  from: z.iso.datetime(),
  to: z.iso.datetime(),
  step: RangeQuerySchema.shape.step.unwrap(),
  points: z.array(PointSchema),
});

export const usageApi: ApiOperation[] = [
  {
    method: 'get',
    path: '/',
    summary: 'Usage totals over a range, optionally grouped by key, environment or operation',
    scope: 'read',
    query: RangeQuerySchema,
    response: SeriesSchema.extend({
      group: RangeQuerySchema.shape.group.unwrap().optional(),
      groups: z.array(z.object({ points: z.array(PointSchema) }).loose()).optional(),
    }),
  },
];

export function usageRoutes(deps: Deps) {
  return new Hono<AppEnv>().get('/', requireAuth(deps, 'read'), async (c) => {
    const range = parseRangeQuery(c.req.query(), deps.clock.now());
    const body = {
      from: iso(range.from),
      to: iso(range.to),
      step: range.step,
      points: pointsView(await totalSeries(deps.db, range)),
    };
    if (!range.group) return c.json(body);
    const { groups, total_groups, next_cursor } = await groupedRuns(deps.db, range, range.group, range.page);
    // A page of keys over a year is megabytes as one string: each group is written as it is sent.
    const head = {
      ...body,
      group: range.group,
      total_groups,
      next_cursor: next_cursor === null ? null : String(next_cursor),
    };
    return streamResponse(jsonWithArray(head, 'groups', groups, groupJsonWriter(range)), JSON_HEADERS);
  });
}
