/**
 * A simple "usual range" for a usage chart: for each bucket, the lowest and highest value of the
 * same bucket 1–4 weeks earlier (same hour of the week, or same weekday). Pure.
 */
export const WEEK_MS = 7 * 86_400_000;

export type Band = { low: (number | null)[]; high: (number | null)[] };

/**
 * `history` maps bucket start (ms) to value and must cover 4 weeks before `buckets`.
 * Returns null when the history is too thin (fewer than 2 of the 4 weeks had any usage).
 */
export function weeklyBand(buckets: number[], history: Map<number, number>, weeks = 4): Band | null {
  const activeWeeks = new Set<number>();
  const low: (number | null)[] = [];
  const high: (number | null)[] = [];
  for (const t of buckets) {
    const samples: number[] = [];
    for (let w = 1; w <= weeks; w++) {
      const v = history.get(t - w * WEEK_MS) ?? 0;
      if (v > 0) activeWeeks.add(w);
      samples.push(v);
    }
    low.push(Math.min(...samples));
    high.push(Math.max(...samples));
  }
  return activeWeeks.size >= 2 ? { low, high } : null;
}
