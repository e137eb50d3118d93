/** One key's activity over a range: operations, source IPs and user agents, from raw events. */
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

/** Top values of one usage_events column for a key (column names are fixed here, never input). */
function seen(
  sqlite: Sqlite,
  column: 'source_ip' | 'user_agent',
  keyId: string,
  from: number,
  to: number,
  limit: number,
) {
  return statement<[string, number, number, number], SeenRow>(
    sqlite,
    `SELECT coalesce(${column}, '(not reported)') AS value, sum(requests) AS requests,
         sum(credits) AS credits, max(ts) AS last_seen
       FROM usage_events WHERE key_id = ? AND ts >= ? AND ts < ?
       GROUP BY 1 ORDER BY requests DESC LIMIT ?`,
  ).all(keyId, from, to, limit);
}

export const ipsOf = (sqlite: Sqlite, keyId: string, from: number, to: number, limit = 20) =>
  seen(sqlite, 'source_ip', keyId, from, to, limit);
export const userAgentsOf = (sqlite: Sqlite, keyId: string, from: number, to: number, limit = 20) =>
  seen(sqlite, 'user_agent', keyId, from, to, limit);
