/**
 * One chunk of history for the replay: closed minute buckets per key (with operations), the
 * sources (IPs, user agents, client origins) of each key-minute from raw events, unattributed spend, and keys.
 */
import { MINUTE } from '../clock.ts';
import type { Sqlite } from '../db/client.ts';
import { statement } from '../db/statements.ts';
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

export function loadKeys(sqlite: Sqlite): KeyInfo[] {
  return statement<[], KeyInfo>(
    sqlite,
    `SELECT k.id, k.name, k.status, k.revoked_at AS revokedAt, k.time_zone AS timeZone,
         r.started_at AS rotatingSince
       FROM keys k LEFT JOIN key_rotations r ON r.old_key_id = k.id ORDER BY k.id`,
  ).all();
}

export function loadChunk(sqlite: Sqlite, from: number, to: number, onlyKey?: string): Chunk {
  const keyFilter = onlyKey ? ' AND key_id = @key' : '';
  const args = { from, to, key: onlyKey ?? '' };
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
  const minutes = statement<typeof args, MinuteRow>(
    sqlite,
    `SELECT key_id, bucket, operation, credits, requests, auth_failures FROM usage_minute
       WHERE bucket >= @from AND bucket < @to${keyFilter} ORDER BY bucket, key_id, operation`,
  ).all(args);
  for (const r of minutes) {
    const b = bucketOf(r.key_id, r.bucket);
    b.requests += r.requests;
    b.credits += r.credits;
    b.authFailures += r.auth_failures;
    b.ops.push({ op: r.operation, requests: r.requests, credits: r.credits });
  }
  const sources = statement<typeof args, SourceRow>(
    sqlite,
    `SELECT key_id, (ts / ${MINUTE}) * ${MINUTE} AS bucket, source_ip AS ip, user_agent AS ua,
         client_origin AS origin, sum(requests) AS requests
       FROM usage_events WHERE ts >= @from AND ts < @to${keyFilter}
       GROUP BY key_id, bucket, source_ip, user_agent, client_origin ORDER BY bucket, key_id`,
  ).all(args);
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
  const spend = statement<{ from: number; to: number }, { bucket: number; credits: number }>(
    sqlite,
    `SELECT (until / ${MINUTE}) * ${MINUTE} AS bucket, sum(credits) AS credits FROM unattributed_spend
       WHERE until >= @from AND until < @to GROUP BY bucket`,
  ).all({ from, to });
  for (const r of spend) unattributed.set(r.bucket, r.credits);
  return { keys: loadKeys(sqlite), buckets, unattributed };
}

/** The first minute with any data, or null on an empty database. */
export function earliestData(sqlite: Sqlite): number | null {
  const row = statement<[], { t: number | null }>(
    sqlite,
    'SELECT min(t) AS t FROM (SELECT min(bucket) AS t FROM usage_minute UNION ALL SELECT min(until) FROM unattributed_spend)',
  ).get();
  return row?.t ?? null;
}
