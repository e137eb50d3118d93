/**
 * The raw-event reads a rotation needs: who used a key (IP, user agent, operation) and when last.
 * Raw events have no index on (key_id, ts) (migration 0015: it was most of the pages an ingest
 * batch wrote): a key's events are read through the ts index over a bounded range, filtered by key,
 * and the per-day callers (`key_clients`, folded from the same events and dropped with them) say
 * which days to read. Reads after the fold (the read barrier), as every rollup read does.
 */
import { type SQL, sql } from 'drizzle-orm';
import { DAY, floorTo, MINUTE } from '../clock.ts';
import type { Db } from '../db/client.ts';
import { rows } from '../db/transaction.ts';

/** A minute bucket's UTC day (integer division on both stores). */
const DAY_OF_BUCKET = sql.raw(`(bucket / ${DAY}) * ${DAY}`);

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
 * which has none), and of a day whose minute buckets hold every request `key_clients` counted, only
 * the minutes the key was used: a key's events are a few hundred minutes a day where the whole
 * day is every key's tens of thousands of events. A day the minute retention cut is read whole.
 */
export async function clientsOfKey(
  db: Db,
  keyId: string,
  from: number,
  to: number,
  limit = 200,
): Promise<ClientRow[]> {
  if (from >= to) return [];
  const firstDay = floorTo(from, DAY);
  const endDay = floorTo(to - 1, DAY) + DAY;
  const counted = await rows<{ day: number; requests: number }>(
    db,
    sql`SELECT day, sum(requests) AS requests FROM key_clients
       WHERE key_id = ${keyId} AND kind = 'ip' AND day >= ${firstDay} AND day < ${endDay} GROUP BY day`,
  );
  const inMinutes = new Map(
    (
      await rows<{ day: number; requests: number }>(
        db,
        sql`SELECT ${DAY_OF_BUCKET} AS day, sum(requests) AS requests FROM usage_minute
           WHERE key_id = ${keyId} AND bucket >= ${firstDay} AND bucket < ${endDay} GROUP BY ${DAY_OF_BUCKET}`,
      )
    ).map((d) => [Number(d.day), Number(d.requests)]),
  );
  // Each day read once: by its minutes when they hold every request the day had, else whole. The
  // day's clip to [from, to) is written +e.ts so the planner seeks the minute, not the whole day.
  const how = new Map<number, 'minutes' | 'whole'>();
  for (const d of counted) {
    const day = Number(d.day);
    how.set(day, inMinutes.get(day) === Number(d.requests) ? 'minutes' : 'whole');
  }
  const first = await oldestEvent(db);
  const oldestDay = first === null ? null : floorTo(first, DAY);
  if (oldestDay !== null && !how.has(oldestDay)) how.set(oldestDay, 'whole');
  const reads: SQL[] = [];
  for (const [day, way] of how) {
    const a = Math.max(day, from);
    const b = Math.min(day + DAY, to);
    if (a >= b) continue;
    reads.push(
      way === 'minutes'
        ? sql`SELECT e.source_ip, e.user_agent, e.operation, e.requests, e.ts
           FROM (SELECT DISTINCT bucket FROM usage_minute
             WHERE key_id = ${keyId} AND bucket >= ${day} AND bucket < ${day + DAY}) AS m
           JOIN usage_events e ON e.ts >= m.bucket AND e.ts < m.bucket + ${MINUTE}
           WHERE +e.ts >= ${a} AND +e.ts < ${b} AND e.key_id = ${keyId}`
        : sql`SELECT source_ip, user_agent, operation, requests, ts
           FROM usage_events WHERE ts >= ${a} AND ts < ${b} AND key_id = ${keyId}`,
    );
  }
  if (reads.length === 0) return [];
  const events = sql.join(reads, sql` UNION ALL `);
  return await rows<ClientRow>(
    db,
    sql`SELECT source_ip, user_agent, operation, sum(requests) AS requests, max(ts) AS last_seen
       FROM (${events}) AS used
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
