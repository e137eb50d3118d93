/** Credits of a period per key (with its environment), from the hourly rollup. */
import type { Db } from '../db/client.ts';
import { keyDirectory, sumsByKey } from '../usage/rank-groups.ts';

export type KeyCredits = { key_id: string; key: string; environment: string | null; credits: number };

/** Sums from the rollups that tile the period (whole months and days, hours at the edges), then names. */
export async function creditsByKey(db: Db, from: number, to: number): Promise<KeyCredits[]> {
  const names = await keyDirectory(db);
  return (await sumsByKey(db, from, to, 'hour'))
    .filter((t) => t.credits > 0 && names.has(t.key_id))
    .map((t) => {
      const k = names.get(t.key_id)!;
      return { key_id: t.key_id, key: k.name, environment: k.environment, credits: t.credits };
    })
    .sort((a, b) => b.credits - a.credits || a.key.localeCompare(b.key));
}
