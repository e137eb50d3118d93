/**
 * The raw-event reads a rotation needs: who used a key (IP, user agent, operation) and when last.
 * Raw events have no index on (key_id, ts) (migration 0015: it was most of the pages an ingest
 * batch wrote): a key's events are read through the ts index over a bounded range, filtered by key,
 * and the per-day callers (`key_clients`, folded from the same events and dropped with them) say
 * which day to read.
 */
import { sql } from 'drizzle-orm';
import { DAY, floorTo } from '../clock.ts';
import type { Db } from '../db/client.ts';
import { rows } from '../db/transaction.ts';

export type ClientRow = {
  source_ip: string | null;
  user_agent: string | null;
  operation: string;
  requests: number;
  last_seen: number;
};

/** Every distinct client of a key in [from, to), most recently seen first (at most `limit`). */
export function clientsOfKey(
  db: Db,
  keyId: string,
  from: number,
  to: number,
  limit = 200,
): Promise<ClientRow[]> {
  return rows<ClientRow>(
    db,
    sql`SELECT source_ip, user_agent, operation, sum(requests) AS requests, max(ts) AS last_seen
       FROM usage_events WHERE ts >= ${from} AND ts < ${to} AND key_id = ${keyId}
       GROUP BY source_ip, user_agent, operation ORDER BY last_seen DESC LIMIT ${limit}`,
  );
}

/** The key's last event in [from, to) from raw events, read through the ts index. */
async function lastInRange(db: Db, keyId: string, from: number, to: number): Promise<number | null> {
  if (from >= to) return null;
  const [row] = await rows<{ last: number | null }>(
    db,
    sql`SELECT max(ts) AS last FROM usage_events WHERE ts >= ${from} AND ts < ${to} AND key_id = ${keyId}`,
  );
  return row?.last ?? null;
}

/**
 * The key's last event before `to`, from raw events (null when none is kept). Reads after the fold
 * (the read barrier), as every rollup read does: `key_clients` then holds, per UTC day, the last
 * event of the key that day (every event counts under kind 'ip', '' when it had no IP).
 */
export async function lastUseOfKey(db: Db, keyId: string, to: number): Promise<number | null> {
  // The two latest days before `to`: the first may have events only at or after `to` (a day runs
  // past it), and then the one before holds the answer.
  const days = await rows<{ day: number; last: number }>(
    db,
    sql`SELECT day, max(last_seen_at) AS last FROM key_clients
       WHERE key_id = ${keyId} AND kind = 'ip' AND day < ${to}
       GROUP BY day ORDER BY day DESC LIMIT 2`,
  );
  for (const d of days) {
    if (d.last < to) return d.last;
    const within = await lastInRange(db, keyId, d.day, to);
    if (within !== null) return within;
  }
  // Retention drops a day of callers once the day starts before its cutoff, and the raw events of
  // that day only up to it: the oldest kept day of events has no callers, so it is read raw.
  const [oldest] = await rows<{ first: number | null }>(db, sql`SELECT min(ts) AS first FROM usage_events`);
  const first = oldest?.first ?? null;
  if (first === null) return null;
  return await lastInRange(db, keyId, first, Math.min(floorTo(first, DAY) + DAY, to));
}
