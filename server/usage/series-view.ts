/** Series points as the API writes them: ISO times. Pure. */
import { iso } from '../timestamps.ts';
import type { Point } from './series.ts';

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
