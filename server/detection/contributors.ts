/** Top contributors of an incident window: operations, source IPs, user agents and hours. */
import { type SQL, sql } from 'drizzle-orm';
import { HOUR } from '../clock.ts';
import type { Db } from '../db/client.ts';
import { dialectOf, rows } from '../db/transaction.ts';
import { iso } from '../timestamps.ts';

export type Contributors = {
  operations: { name: string; credits: number; requests: number }[];
  ips: { value: string; requests: number }[];
  user_agents: { value: string; requests: number }[];
  hours: { hour: string; credits: number }[];
};

const TOP = 5;
const HOUR_OF_BUCKET = sql.raw(`(bucket / ${HOUR}) * ${HOUR}`);
/**
 * Ties break by value in code-unit order on both stores: PostgreSQL's text order follows the
 * database's collation unless told "C" (SQLite compares bytes, the same order for UTF-8).
 */
const BYTE_ORDER: Record<ReturnType<typeof dialectOf>, SQL> = {
  sqlite: sql.raw(''),
  postgres: sql.raw(' COLLATE "C"'),
};

export async function findContributors(
  db: Db,
  keyId: string,
  from: number,
  to: number,
): Promise<Contributors> {
  const byteOrder = BYTE_ORDER[dialectOf(db)];
  // Every order ends on a unique tie-break, so both stores list the same top five.
  const operations = await rows<{ name: string; credits: number; requests: number }>(
    db,
    sql`SELECT operation AS name, sum(credits) AS credits, sum(requests) AS requests FROM usage_minute
       WHERE key_id = ${keyId} AND bucket >= ${from} AND bucket < ${to}
       GROUP BY operation ORDER BY credits DESC, requests DESC, operation${byteOrder} LIMIT ${sql.raw(String(TOP))}`,
  );
  // `column` is one of two constants below, never input. The window's events are read through the
  // ts index and filtered by key (no (key_id, ts) index: migration 0015); a window is an episode.
  const top = (column: 'source_ip' | 'user_agent') =>
    rows<{ value: string; requests: number }>(
      db,
      sql`SELECT ${sql.raw(column)} AS value, sum(requests) AS requests FROM usage_events
         WHERE ts >= ${from} AND ts < ${to} AND key_id = ${keyId} AND ${sql.raw(column)} IS NOT NULL
         GROUP BY ${sql.raw(column)} ORDER BY requests DESC, ${sql.raw(column)}${byteOrder} LIMIT ${sql.raw(String(TOP))}`,
    );
  const hours = await rows<{ hour: number; credits: number }>(
    db,
    sql`SELECT ${HOUR_OF_BUCKET} AS hour, sum(credits) AS credits FROM usage_minute
       WHERE key_id = ${keyId} AND bucket >= ${from} AND bucket < ${to}
       GROUP BY ${HOUR_OF_BUCKET} ORDER BY credits DESC, hour LIMIT ${sql.raw(String(TOP))}`,
  );
  return {
    operations,
    ips: await top('source_ip'),
    user_agents: await top('user_agent'),
    hours: hours.map((h) => ({ hour: iso(h.hour), credits: h.credits })),
  };
}
