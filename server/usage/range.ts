/** Parses ?from=&to=&step= for the series endpoints, with defaults that suit each step. */
import { z } from 'zod';
import { DAY, HOUR } from '../clock.ts';
import { issuesFromZod, validationError } from '../errors.ts';
import { refuseEmptyWindow, TimestampSchema } from '../timestamps.ts';
import { STEPS, type Step } from './buckets.ts';
import { GROUPS, type Group, type GroupPage, type Range, refuseTooManyPoints } from './series.ts';

const DEFAULT_SPAN: Record<Step, number> = { minute: 6 * HOUR, hour: 7 * DAY, day: 30 * DAY };

export const RangeQuerySchema = z.object({
  from: TimestampSchema.optional(),
  to: TimestampSchema.optional(),
  step: z.enum(Object.keys(STEPS) as [Step, ...Step[]]).default('hour'),
  group: z.enum(GROUPS).optional(),
  // Paging through groups (largest spender first); the cursor is opaque to clients.
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
  cursor: z
    .string()
    .regex(/^\d{1,9}$/, 'must be a next_cursor from a previous answer')
    .transform(Number)
    .optional(),
  // The N largest groups and the rest summed as "(other)": what a stacked chart draws.
  top: z.coerce.number().int().min(1).max(100).optional(),
});

export type RangeQuery = Range & { group?: Group; page: GroupPage };

export function parseRangeQuery(query: Record<string, string>, now: number): RangeQuery {
  const parsed = RangeQuerySchema.safeParse(query);
  if (!parsed.success) throw validationError(issuesFromZod(parsed.error.issues));
  const { step, group, limit, cursor, top } = parsed.data;
  if (top !== undefined && (limit !== undefined || cursor !== undefined))
    throw validationError([{ path: 'top', message: 'cannot be combined with limit or cursor' }]);
  if ((limit !== undefined || cursor !== undefined || top !== undefined) && !group)
    throw validationError([{ path: 'group', message: 'is required with limit, cursor or top' }]);
  const page: GroupPage = {
    ...(limit !== undefined && { limit }),
    ...(cursor !== undefined && { cursor }),
    ...(top !== undefined && { top }),
  };
  const to = parsed.data.to ?? now;
  const from = parsed.data.from ?? to - DEFAULT_SPAN[step];
  refuseEmptyWindow(from, to);
  const range = { from, to, step };
  refuseTooManyPoints(range);
  return group ? { ...range, group, page } : { ...range, page };
}
