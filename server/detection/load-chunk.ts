/**
 * One chunk of history for the replay: closed minute buckets per key (with operations), the
 * sources (IPs, user agents, client origins) of each key-minute from raw events, unattributed spend, and keys.
 */
import { sql } from 'drizzle-orm';
import { MINUTE } from '../clock.ts';
import type { Db } from '../db/client.ts';
import { rows } from '../db/transaction.ts';
import { everyKey } from '../usage/every-key.ts';
import type { Bucket } from './core/types.ts';

export type KeyInfo = {
  id: string;
  name: string;
  status: 'active' | 'revoked' | 'discovered';
  revokedAt: number | null;
  /** The key's own zone, when it serves another region than the team's. */
  timeZone: string | null;
  /** Being rotated away since then (its fading usage is expected), else null. */
  rotatingSince: number | null;
};

export type Chunk = {
  keys: KeyInfo[];
  /** bucket start -> key id -> bucket */
  buckets: Map<number, Map<string, Bucket>>;
  unattributed: Map<number, number>;
};

type MinuteRow = {
  key_id: string;
  bucket: number;
  operation: string;
  credits: number;
  requests: number;
  auth_failures: number;
};
type SourceRow = {
  key_id: string;
  bucket: number;
  ip: string | null;
  ua: string | null;
  origin: string | null;
  requests: number;
};

/**
 * Keys in code-unit order of their ids, the order replay steps them in: sorted here, since
 * PostgreSQL's ORDER BY on text follows the database's collation (ids are mixed case).
 */
export async function loadKeys(db: Db): Promise<KeyInfo[]> {
  const found = await rows<KeyInfo>(
    db,
    sql`SELECT k.id, k.name, k.status, k.revoked_at AS "revokedAt", k.time_zone AS "timeZone",
         r.started_at AS "rotatingSince"
       FROM keys k LEFT JOIN key_rotations r ON r.old_key_id = k.id ORDER BY k.id`,
  );
  return found.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

// Two SQL texts per query (all keys, one key), each prepared once per SQLite connection.
const minutesOf = (db: Db, from: number, to: number, onlyKey?: string) =>
  onlyKey === undefined
    ? // One primary-key seek per key: usage_minute has no index on bucket alone (migration 0012).
      sql`SELECT key_id, bucket, operation, credits, requests, auth_failures FROM usage_minute
       WHERE ${everyKey(db)} AND bucket >= ${from} AND bucket < ${to}
       ORDER BY bucket, key_id, operation`
    : sql`SELECT key_id, bucket, operation, credits, requests, auth_failures FROM usage_minute
       WHERE bucket >= ${from} AND bucket < ${to} AND key_id = ${onlyKey} ORDER BY bucket, key_id, operation`;

// Grouped by the expression, not its alias: PostgreSQL resolves a GROUP BY name to an input
// column before an output one, and SQLite accepts either.
const MINUTE_OF_TS = sql.raw(`(ts / ${MINUTE}) * ${MINUTE}`);
// One key's sources read the chunk's events through the ts index and keep the key's: raw events have
// no (key_id, ts) index (migration 0015), and a chunk is a few hours.
const sourcesOf = (from: number, to: number, onlyKey?: string) =>
  onlyKey === undefined
    ? sql`SELECT key_id, ${MINUTE_OF_TS} AS bucket, source_ip AS ip, user_agent AS ua,
         client_origin AS origin, sum(requests) AS requests
       FROM usage_events WHERE ts >= ${from} AND ts < ${to}
       GROUP BY key_id, ${MINUTE_OF_TS}, source_ip, user_agent, client_origin ORDER BY bucket, key_id`
    : sql`SELECT key_id, ${MINUTE_OF_TS} AS bucket, source_ip AS ip, user_agent AS ua,
         client_origin AS origin, sum(requests) AS requests
       FROM usage_events WHERE ts >= ${from} AND ts < ${to} AND key_id = ${onlyKey}
       GROUP BY key_id, ${MINUTE_OF_TS}, source_ip, user_agent, client_origin ORDER BY bucket, key_id`;

const MINUTE_OF_UNTIL = sql.raw(`(until / ${MINUTE}) * ${MINUTE}`);

export async function loadChunk(db: Db, from: number, to: number, onlyKey?: string): Promise<Chunk> {
  const buckets = new Map<number, Map<string, Bucket>>();
  const bucketOf = (keyId: string, ts: number): Bucket => {
    let byKey = buckets.get(ts);
    if (!byKey) {
      byKey = new Map();
      buckets.set(ts, byKey);
    }
    let b = byKey.get(keyId);
    if (!b) {
      b = { ts, requests: 0, credits: 0, authFailures: 0, ops: [] };
      byKey.set(keyId, b);
    }
    return b;
  };
  const minutes = await rows<MinuteRow>(db, minutesOf(db, from, to, onlyKey));
  for (const r of minutes) {
    const b = bucketOf(r.key_id, r.bucket);
    b.requests += r.requests;
    b.credits += r.credits;
    b.authFailures += r.auth_failures;
    b.ops.push({ op: r.operation, requests: r.requests, credits: r.credits });
  }
  const sources = await rows<SourceRow>(db, sourcesOf(from, to, onlyKey));
  for (const r of sources) {
    const b = bucketOf(r.key_id, r.bucket);
    if (r.ip) {
      b.ips = b.ips ?? {};
      b.ips[r.ip] = (b.ips[r.ip] ?? 0) + r.requests;
    }
    if (r.ua) {
      b.uas = b.uas ?? {};
      b.uas[r.ua] = (b.uas[r.ua] ?? 0) + r.requests;
    }
    if (r.origin) {
      b.origins = b.origins ?? {};
      b.origins[r.origin] = (b.origins[r.origin] ?? 0) + r.requests;
    }
  }
  const unattributed = new Map<number, number>();
  const spend = await rows<{ bucket: number; credits: number }>(
    db,
    sql`SELECT ${MINUTE_OF_UNTIL} AS bucket, sum(credits) AS credits FROM unattributed_spend
       WHERE until >= ${from} AND until < ${to} GROUP BY ${MINUTE_OF_UNTIL}`,
  );
  for (const r of spend) unattributed.set(r.bucket, r.credits);
  return { keys: await loadKeys(db), buckets, unattributed };
}

/** The first minute with any data, or null on an empty database. */
export async function earliestData(db: Db): Promise<number | null> {
  const [row] = await rows<{ t: number | null }>(
    db,
    // The per-minute totals hold a row for every minute any key has (written and dropped with it):
    // their first is the rowid table's first row, where usage_minute has no index on bucket.
    sql`SELECT min(t) AS t FROM (SELECT min(bucket) AS t FROM usage_minute_total
       UNION ALL SELECT min(until) FROM unattributed_spend) AS firsts`,
  );
  return row?.t ?? null;
}
