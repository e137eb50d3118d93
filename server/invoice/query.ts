/** Credits of a period per key (with its environment), from the hourly rollup. */
import type { Sqlite } from '../db/client.ts';
import { statement } from '../db/statements.ts';

export type KeyCredits = { key_id: string; key: string; environment: string | null; credits: number };

export function creditsByKey(sqlite: Sqlite, from: number, to: number): KeyCredits[] {
  return statement<[number, number], KeyCredits>(
    sqlite,
    `SELECT k.id AS key_id, k.name AS key, k.environment AS environment, sum(u.credits) AS credits
       FROM usage_hour u JOIN keys k ON k.id = u.key_id
       WHERE u.bucket >= ? AND u.bucket < ?
       GROUP BY k.id HAVING sum(u.credits) > 0 ORDER BY credits DESC, k.name`,
  ).all(from, to);
}
