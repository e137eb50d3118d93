/**
 * The raw-event reads a rotation needs: who used a key (IP, user agent, operation) and when last.
 * Raw events have no index on (key_id, ts) (migration 0015: it was most of the pages an ingest
 * batch wrote): a key's events are read through the ts index over a bounded range, filtered by key,
 * and the per-day callers (`key_clients`, folded from the same events and dropped with them) say
 * which days to read. Reads after the fold (the read barrier), as every rollup read does.
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

/**
 * Every distinct client of a key in [from, to), most recently seen first (at most `limit`). Only the
 * days the key was used are read (its days in `key_clients`, and retention's partial oldest day,
 * which has none): an old key that went quiet during its rotation reads a few days, not the week.
 */
export async function clientsOfKey(
  db: Db,
  keyId: string,
  from: number,
  to: number,
  limit = 200,
): Promise<ClientRow[]> {
  if (from >= to) return [];
  const used = await rows<{ day: number }>(
    db,
    sql`SELECT DISTINCT day FROM key_clients
       WHERE key_id = ${keyId} AND kind = 'ip' AND day >= ${floorTo(from, DAY)} AND day < ${to} ORDER BY day`,
  );
  const days = used.map((d) => d.day);
  const first = await oldestEvent(db);
  if (first !== null && first < to && floorTo(first, DAY) + DAY > from) days.push(floorTo(first, DAY));
  days.sort((a, b) => a - b);
  // Consecutive days as one range each, clipped to [from, to).
  const ranges: [number, number][] = [];
  for (const day of days) {
    const start = Math.max(day, from);
    const end = Math.min(day + DAY, to);
    const last = ranges[ranges.length - 1];
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else if (start < end) ranges.push([start, end]);
  }
  if (ranges.length === 0) return [];
  const within = sql.join(
    ranges.map(([a, b]) => sql`(ts >= ${a} AND ts < ${b})`),
    sql` OR `,
  );
  return await rows<ClientRow>(
    db,
    sql`SELECT source_ip, user_agent, operation, sum(requests) AS requests, max(ts) AS last_seen
       FROM usage_events WHERE (${within}) AND key_id = ${keyId}
       GROUP BY source_ip, user_agent, operation ORDER BY last_seen DESC LIMIT ${limit}`,
  );
}

/** The oldest raw event's time (the ts index's first entry), null when none is kept. */
async function oldestEvent(db: Db): Promise<number | null> {
  const [row] = await rows<{ first: number | null }>(db, sql`SELECT min(ts) AS first FROM usage_events`);
  return row?.first ?? null;
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
  const first = await oldestEvent(db);
  if (first === null) return null;
  return await lastInRange(db, keyId, first, Math.min(floorTo(first, DAY) + DAY, to));
}
