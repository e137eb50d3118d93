/** The keys table: each key with its last 7 days by day, and the hygiene flags it earns. */
import { type SQL, sql } from 'drizzle-orm';
import { DAY, floorTo } from '../../server/clock.ts';
import type { Db } from '../../server/db/client.ts';
import { dialectOf, rowArrays, rows } from '../../server/db/transaction.ts';
import { type KeyView, listKeys } from '../../server/keys/keys.ts';

export type HygieneFlag = {
  code: 'rotate' | 'unused' | 'discovered' | 'revoked_used' | 'many_sources';
  label: string;
};
export type KeyRowView = KeyView & {
  daily: number[];
  credits7d: number;
  ipGroups: number;
  flags: HygieneFlag[];
};

export const HYGIENE = { rotateAfterDays: 90, unusedDays: 30, manySourceGroups: 3 };

/**
 * A network's group: /16 for IPv4, /32 for IPv6 — a rough "which environment" signal, taken from
 * the /24 and /64 networks `key_networks` keeps per key (maintained on write, so no raw event is read).
 */
function ipGroupSql(db: Db): SQL {
  // The same expression on both stores; only the name of "position of a substring" differs.
  const instr = dialectOf(db) === 'sqlite' ? 'instr' : 'strpos';
  return sql.raw(`CASE WHEN ${instr}(network, '.') > 0
  THEN substr(network, 1, ${instr}(network, '.') + ${instr}(substr(network, ${instr}(network, '.') + 1), '.') - 1)
  ELSE substr(network, 1, 9) END`);
}

export function flagsFor(key: KeyView, ipGroups: number, now: number): HygieneFlag[] {
  const flags: HygieneFlag[] = [];
  const age = now - Date.parse(key.created_at);
  const lastUsed = key.last_used_at ? Date.parse(key.last_used_at) : null;
  if (key.status === 'discovered') flags.push({ code: 'discovered', label: 'Discovered: not registered' });
  if (
    key.status === 'revoked' &&
    lastUsed !== null &&
    key.revoked_at &&
    lastUsed > Date.parse(key.revoked_at)
  ) {
    flags.push({ code: 'revoked_used', label: 'Revoked but still used' });
  }
  if (key.status !== 'revoked' && age > HYGIENE.rotateAfterDays * DAY) {
    flags.push({ code: 'rotate', label: `Older than ${HYGIENE.rotateAfterDays} days: rotate` });
  }
  if (
    key.status !== 'revoked' &&
    age > HYGIENE.unusedDays * DAY &&
    (lastUsed === null || now - lastUsed > HYGIENE.unusedDays * DAY)
  ) {
    flags.push({ code: 'unused', label: `Unused ${HYGIENE.unusedDays} days: revoke` });
  }
  if (ipGroups >= HYGIENE.manySourceGroups) {
    flags.push({ code: 'many_sources', label: `Seen from ${ipGroups} networks this week` });
  }
  return flags;
}

/** Distinct network groups one key was seen from since `since`. */
export async function ipGroupCount(db: Db, keyId: string, since: number): Promise<number> {
  const [row] = await rows<{ n: number }>(
    db,
    sql`SELECT count(DISTINCT ${ipGroupSql(db)}) AS n FROM key_networks
      WHERE key_id = ${keyId} AND last_seen_at >= ${since}`,
  );
  return row?.n ?? 0;
}

export async function listKeyRows(deps: { db: Db }, now: number): Promise<KeyRowView[]> {
  const start = floorTo(now, DAY) - 6 * DAY;
  // The per-key day sums: one row per key and day, no operations to add up; as arrays, since a
  // thousand keys' week is 7,000 rows and an object per row cost as much as the query.
  const daily = await rowArrays<[keyId: string, bucket: number, credits: number]>(
    deps.db,
    sql`SELECT key_id, bucket, credits FROM usage_key_day WHERE bucket >= ${start}`,
  );
  const groups = await rows<{ key_id: string; n: number }>(
    deps.db,
    sql`SELECT key_id, count(DISTINCT ${ipGroupSql(deps.db)}) AS n FROM key_networks
       WHERE last_seen_at >= ${start} GROUP BY key_id`,
  );
  const ipGroups = new Map(groups.map((g) => [g.key_id, g.n]));
  const byKey = new Map<string, number[]>();
  for (const [keyId, bucket, credits] of daily) {
    const series = byKey.get(keyId) ?? new Array<number>(7).fill(0);
    const i = Math.round((bucket - start) / DAY);
    if (i >= 0 && i < 7) series[i] = credits;
    byKey.set(keyId, series);
  }
  return (await listKeys(deps)).map((key) => {
    const series = byKey.get(key.id) ?? new Array<number>(7).fill(0);
    const n = ipGroups.get(key.id) ?? 0;
    return {
      ...key,
      daily: series,
      credits7d: series.reduce((a, b) => a + b, 0),
      ipGroups: n,
      flags: flagsFor(key, n, now),
    };
  });
}

/** Rows one keys page shows; the CSV export and the API list stay complete. */
export const KEYS_PER_PAGE = 100;

export type KeyPage = {
  rows: KeyRowView[];
  total: number;
  flagged: number;
  /** 1-based page shown, and how many there are. */
  page: number;
  pages: number;
};

/** One page of the keys table (by name), with the counts over every key. */
export function pageOfKeyRows(all: KeyRowView[], page: number): KeyPage {
  const pages = Math.max(1, Math.ceil(all.length / KEYS_PER_PAGE));
  const shown = Math.min(Math.max(1, page), pages);
  return {
    rows: all.slice((shown - 1) * KEYS_PER_PAGE, shown * KEYS_PER_PAGE),
    total: all.length,
    flagged: all.filter((k) => k.flags.length > 0).length,
    page: shown,
    pages,
  };
}
