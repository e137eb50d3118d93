/** Spend totals for the overview: credits in a range, top keys, unattributed spend. */
import type { Sqlite } from '../../server/db/client.ts';
import { statement } from '../../server/db/statements.ts';

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
    'SELECT sum(credits) AS credits, sum(requests) AS requests FROM usage_hour WHERE bucket >= ? AND bucket < ?',
  ).get(Math.floor(from / 3_600_000) * 3_600_000, to);
  return { credits: row?.credits ?? 0, requests: row?.requests ?? 0 };
}

export function topKeys(sqlite: Sqlite, from: number, to: number, limit = 5): KeySpend[] {
  return statement<[number, number, number], KeySpend>(
    sqlite,
    `SELECT k.id, k.name, k.environment, k.status, sum(b.credits) AS credits, sum(b.requests) AS requests
       FROM usage_hour b JOIN keys k ON k.id = b.key_id
       WHERE b.bucket >= ? AND b.bucket < ? GROUP BY k.id ORDER BY credits DESC LIMIT ?`,
  ).all(Math.floor(from / 3_600_000) * 3_600_000, to, limit);
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
