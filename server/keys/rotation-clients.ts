/** The raw-event reads a rotation needs: who used a key (IP, user agent, operation) and when last. */
import type { Sqlite } from '../db/client.ts';
import { statement } from '../db/statements.ts';

export type ClientRow = {
  source_ip: string | null;
  user_agent: string | null;
  operation: string;
  requests: number;
  last_seen: number;
};

/** Every distinct client of a key in [from, to), most recently seen first (at most `limit`). */
export function clientsOfKey(
  sqlite: Sqlite,
  keyId: string,
  from: number,
  to: number,
  limit = 200,
): ClientRow[] {
  return statement<[string, number, number, number], ClientRow>(
    sqlite,
    `SELECT source_ip, user_agent, operation, sum(requests) AS requests, max(ts) AS last_seen
       FROM usage_events WHERE key_id = ? AND ts >= ? AND ts < ?
       GROUP BY source_ip, user_agent, operation ORDER BY last_seen DESC LIMIT ?`,
  ).all(keyId, from, to, limit);
}

/** The key's last event before `to`, from raw events (null when none is kept). */
export function lastUseOfKey(sqlite: Sqlite, keyId: string, to: number): number | null {
  return (
    statement<[string, number], number | null>(
      sqlite,
      'SELECT max(ts) FROM usage_events WHERE key_id = ? AND ts < ?',
    )
      .pluck()
      .get(keyId, to) ?? null
  );
}
