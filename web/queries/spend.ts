/** Spend totals for the overview: credits in a range, top keys, unattributed spend. */
import type { Sqlite } from '../../server/db/client.ts';
import { statement } from '../../server/db/statements.ts';
import { sumsByKey } from '../../server/usage/rank-groups.ts';

export type KeySpend = {
  id: string;
  name: string;
  environment: string | null;
  status: string;
  credits: number;
  requests: number;
};

/** Credits in [from, to) from hourly buckets (fast at any size); `from` is rounded down to the hour. */
export function sumCredits(sqlite: Sqlite, from: number, to: number): { credits: number; requests: number } {
  const row = statement<[number, number], { credits: number | null; requests: number | null }>(
    sqlite,
    'SELECT sum(credits) AS credits, sum(requests) AS requests FROM usage_hour_total WHERE bucket >= ? AND bucket < ?',
  ).get(Math.floor(from / 3_600_000) * 3_600_000, to);
  return { credits: row?.credits ?? 0, requests: row?.requests ?? 0 };
}

/** The largest spenders: sums over the buckets alone, then the few names looked up. */
export function topKeys(sqlite: Sqlite, from: number, to: number, limit = 5): KeySpend[] {
  // Whole days from the day rollup, the edges from hours: a week is a few rows per key.
  const top = sumsByKey(sqlite, Math.floor(from / 3_600_000) * 3_600_000, to, 'hour')
    .sort((a, b) => b.credits - a.credits)
    .slice(0, limit);
  const key = statement<[string], Omit<KeySpend, 'credits' | 'requests'>>(
    sqlite,
    'SELECT id, name, environment, status FROM keys WHERE id = ?',
  );
  return top.flatMap((t) => {
    const k = key.get(t.key_id);
    return k ? [{ ...k, credits: t.credits, requests: t.requests }] : [];
  });
}

export function unattributedCredits(
  sqlite: Sqlite,
  from: number,
  to: number,
): { credits: number; events: number } {
  const row = statement<[number, number], { credits: number | null; events: number }>(
    sqlite,
    'SELECT sum(credits) AS credits, count(*) AS events FROM unattributed_spend WHERE ts >= ? AND ts < ?',
  ).get(from, to);
  return { credits: row?.credits ?? 0, events: row?.events ?? 0 };
}
