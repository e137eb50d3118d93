/** Timestamps at the edges: ISO-8601 with an offset, or integer epoch milliseconds. */
import { z } from 'zod';
import { validationError } from './errors.ts';

export const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

/** Epoch ms of an ISO-8601 string with an offset; NaN when malformed or off the calendar (Feb 30th). */
export function parseIsoWithOffset(value: string): number {
  if (!ISO_WITH_OFFSET.test(value)) return Number.NaN;
  // Date.parse rolls a day past the month's end over into the next month; that is a typo, not a date.
  const [y = 0, m = 0, d = 0] = value.slice(0, 10).split('-').map(Number);
  if (m < 1 || m > 12 || d < 1 || d > new Date(Date.UTC(y, m, 0)).getUTCDate()) return Number.NaN;
  return Date.parse(value);
}

/** Parses a request timestamp to epoch ms; zod messages name what was wrong. */
export const TimestampSchema = z
  .union([z.number(), z.string()])
  .transform((value, ctx) => {
    if (typeof value === 'number') {
      if (!Number.isInteger(value) || value < 0 || value > 8.64e15) {
        ctx.addIssue({ code: 'custom', message: 'must be integer epoch milliseconds' });
        return z.NEVER;
      }
      return value;
    }
    if (/^\d{1,16}$/.test(value)) return Number(value);
    const ms = parseIsoWithOffset(value);
    if (Number.isNaN(ms)) {
      ctx.addIssue({
        code: 'custom',
        message: 'must be ISO-8601 with a time zone offset (e.g. 2026-11-26T10:00:00Z) or epoch milliseconds',
      });
      return z.NEVER;
    }
    return ms;
  })
  .meta({ description: 'ISO-8601 with a time zone offset, or integer epoch milliseconds.' });

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function isoOrNull(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : new Date(ms).toISOString();
}

/** A query's `from`..`to` window must hold some time: an empty one is a mistake, answered 400. */
export function refuseEmptyWindow(from: number, to: number): void {
  if (from >= to) throw validationError([{ path: 'from', message: 'must be before to' }]);
}
