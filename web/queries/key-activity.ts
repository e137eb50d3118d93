/** One key's activity over a range: operations from hourly buckets, source IPs and user agents by day. */
import { DAY, floorTo } from '../../server/clock.ts';
import type { Sqlite } from '../../server/db/client.ts';
import { statement } from '../../server/db/statements.ts';

export type OperationRow = { operation: string; credits: number; requests: number; errors: number };
export type SeenRow = { value: string; requests: number; credits: number; last_seen: number };

export function operationsOf(sqlite: Sqlite, keyId: string, from: number, to: number): OperationRow[] {
  return statement<[string, number, number], OperationRow>(
    sqlite,
    `SELECT CASE WHEN operation = '' THEN '(unknown)' ELSE operation END AS operation,
         sum(credits) AS credits, sum(requests) AS requests, sum(errors) AS errors
       FROM usage_hour WHERE key_id = ? AND bucket >= ? AND bucket < ?
       GROUP BY 1 ORDER BY credits DESC`,
  ).all(keyId, Math.floor(from / 3_600_000) * 3_600_000, to);
}

/**
 * Top callers of a key by one kind (source IP or user agent) over the UTC days [from, to), from the
 * per-day rollup kept on write: a busy key's month is a few rows per day, not its raw events.
 */
function seen(sqlite: Sqlite, kind: 'ip' | 'ua', keyId: string, from: number, to: number, limit: number) {
  return statement<[string, string, number, number, number], SeenRow>(
    sqlite,
    `SELECT CASE WHEN value = '' THEN '(not reported)' ELSE value END AS value, sum(requests) AS requests,
         sum(credits) AS credits, max(last_seen_at) AS last_seen
       FROM key_clients WHERE key_id = ? AND kind = ? AND day >= ? AND day < ?
       GROUP BY key_clients.value ORDER BY requests DESC, value LIMIT ?`,
  ).all(keyId, kind, floorTo(from, DAY), to, limit);
}

export const ipsOf = (sqlite: Sqlite, keyId: string, from: number, to: number, limit = 20) =>
  seen(sqlite, 'ip', keyId, from, to, limit);
export const userAgentsOf = (sqlite: Sqlite, keyId: string, from: number, to: number, limit = 20) =>
  seen(sqlite, 'ua', keyId, from, to, limit);
