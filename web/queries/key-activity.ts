/** One key's activity over a range: operations from hourly buckets, source IPs and user agents by day. */
import { sql } from 'drizzle-orm';
import { DAY, floorTo } from '../../server/clock.ts';
import type { Db } from '../../server/db/client.ts';
import { rows } from '../../server/db/transaction.ts';
import { byteOrder } from '../../server/usage/text-order.ts';

export type OperationRow = { operation: string; credits: number; requests: number; errors: number };
export type SeenRow = { value: string; requests: number; credits: number; last_seen: number };

export function operationsOf(db: Db, keyId: string, from: number, to: number): Promise<OperationRow[]> {
  return rows<OperationRow>(
    db,
    sql`SELECT CASE WHEN operation = '' THEN '(unknown)' ELSE operation END AS operation,
         sum(credits) AS credits, sum(requests) AS requests, sum(errors) AS errors
       FROM usage_hour WHERE key_id = ${keyId} AND bucket >= ${Math.floor(from / 3_600_000) * 3_600_000}
         AND bucket < ${to}
       GROUP BY 1 ORDER BY credits DESC`,
  );
}

/**
 * Top callers of a key by one kind (source IP or user agent) over the UTC days [from, to), from the
 * per-day rollup kept on write: a busy key's month is a few rows per day, not its raw events.
 */
function seen(db: Db, kind: 'ip' | 'ua', keyId: string, from: number, to: number, limit: number) {
  return rows<SeenRow>(
    db,
    sql`SELECT CASE WHEN value = '' THEN '(not reported)' ELSE value END AS value, sum(requests) AS requests,
         sum(credits) AS credits, max(last_seen_at) AS last_seen
       FROM key_clients WHERE key_id = ${keyId} AND kind = ${kind} AND day >= ${floorTo(from, DAY)} AND day < ${to}
       GROUP BY key_clients.value ORDER BY requests DESC, value${byteOrder(db)} LIMIT ${limit}`,
  );
}

export const ipsOf = (db: Db, keyId: string, from: number, to: number, limit = 20) =>
  seen(db, 'ip', keyId, from, to, limit);
export const userAgentsOf = (db: Db, keyId: string, from: number, to: number, limit = 20) =>
  seen(db, 'ua', keyId, from, to, limit);
