/** The raw-event reads a rotation needs: who used a key (IP, user agent, operation) and when last. */
import { sql } from 'drizzle-orm';
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
       FROM usage_events WHERE key_id = ${keyId} AND ts >= ${from} AND ts < ${to}
       GROUP BY source_ip, user_agent, operation ORDER BY last_seen DESC LIMIT ${limit}`,
  );
}

/** The key's last event before `to`, from raw events (null when none is kept). */
export async function lastUseOfKey(db: Db, keyId: string, to: number): Promise<number | null> {
  const [row] = await rows<{ last: number | null }>(
    db,
    sql`SELECT max(ts) AS last FROM usage_events WHERE key_id = ${keyId} AND ts < ${to}`,
  );
  return row?.last ?? null;
}
