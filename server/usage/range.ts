/** Parses ?from=&to=&step= for the series endpoints, with defaults that suit each step. */
import { z } from 'zod';
import { DAY, HOUR } from '../clock.ts';
import { issuesFromZod, validationError } from '../errors.ts';
import { TimestampSchema } from '../timestamps.ts';
import { STEPS, type Step } from './buckets.ts';
import { GROUPS, type Group, type Range, refuseTooManyPoints } from './series.ts';

const DEFAULT_SPAN: Record<Step, number> = { minute: 6 * HOUR, hour: 7 * DAY, day: 30 * DAY };

export const RangeQuerySchema = z.object({
  from: TimestampSchema.optional(),
  to: TimestampSchema.optional(),
  step: z.enum(Object.keys(STEPS) as [Step, ...Step[]]).default('hour'),
  group: z.enum(GROUPS).optional(),
});

export function parseRangeQuery(query: Record<string, string>, now: number): Range & { group?: Group } {
  const parsed = RangeQuerySchema.safeParse(query);
  if (!parsed.success) throw validationError(issuesFromZod(parsed.error.issues));
  const { step, group } = parsed.data;
  const to = parsed.data.to ?? now;
  const from = parsed.data.from ?? to - DEFAULT_SPAN[step];
  if (from >= to) throw validationError([{ path: 'from', message: 'must be before to' }]);
  const range = { from, to, step };
  refuseTooManyPoints(range);
  return group ? { ...range, group } : range;
}
