/** Spend totals for the overview: credits in a range, top keys, unattributed spend. */
import { sql } from 'drizzle-orm';
import type { Db } from '../../server/db/client.ts';
import { rows } from '../../server/db/transaction.ts';
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
export async function sumCredits(
  db: Db,
  from: number,
  to: number,
): Promise<{ credits: number; requests: number }> {
  const [row] = await rows<{ credits: number | null; requests: number | null }>(
    db,
    sql`SELECT sum(credits) AS credits, sum(requests) AS requests FROM usage_hour_total
      WHERE bucket >= ${Math.floor(from / 3_600_000) * 3_600_000} AND bucket < ${to}`,
  );
  return { credits: row?.credits ?? 0, requests: row?.requests ?? 0 };
}

/** The largest spenders: sums over the buckets alone, then the few names looked up. */
export async function topKeys(db: Db, from: number, to: number, limit = 5): Promise<KeySpend[]> {
  // Whole days from the day rollup, the edges from hours: a week is a few rows per key.
  const top = (await sumsByKey(db, Math.floor(from / 3_600_000) * 3_600_000, to, 'hour'))
    // Ties by id, so both stores (whose rows come in different orders) list the same keys.
    .sort((a, b) => b.credits - a.credits || (a.key_id < b.key_id ? -1 : a.key_id > b.key_id ? 1 : 0))
    .slice(0, limit);
  const out: KeySpend[] = [];
  for (const t of top) {
    const [k] = await rows<Omit<KeySpend, 'credits' | 'requests'>>(
      db,
      sql`SELECT id, name, environment, status FROM keys WHERE id = ${t.key_id}`,
    );
    if (k) out.push({ ...k, credits: t.credits, requests: t.requests });
  }
  return out;
}

export async function unattributedCredits(
  db: Db,
  from: number,
  to: number,
): Promise<{ credits: number; events: number }> {
  const [row] = await rows<{ credits: number | null; events: number }>(
    db,
    sql`SELECT sum(credits) AS credits, count(*) AS events FROM unattributed_spend WHERE ts >= ${from} AND ts < ${to}`,
  );
  return { credits: row?.credits ?? 0, events: row?.events ?? 0 };
}
