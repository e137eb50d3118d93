/** The keys table: each key with its last 7 days by day, and the hygiene flags it earns. */
import { type SQL, sql } from 'drizzle-orm';
import { DAY, floorTo } from '../../server/clock.ts';
import type { Db } from '../../server/db/client.ts';
import { dialectOf, rowArrays, rows } from '../../server/db/transaction.ts';
import { type KeyView, listKeys } from '../../server/keys/keys.ts';
import { everyKey } from '../../server/usage/every-key.ts';
import { idsIn } from '../../server/usage/id-list.ts';

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

/** Per key, its credits on each of the 7 days from `start` (0 where none): of `keyIds`, or of every key. */
async function dailyCredits(db: Db, start: number, keyIds: string[] | null): Promise<Map<string, number[]>> {
  // The per-key day sums hold one row per key and day: each day's credits picked into a column of
  // its own, so the store returns a row per key, not the week's 7,000 rows of a thousand keys.
  // Every key: one primary-key descent per key to its last week (everyKey), not a scan of every
  // key's whole history for the rows of the week (a year of 1,000 keys: 365,000 rows for 7,000).
  const only = keyIds ? sql`key_id IN (${idsIn(db, keyIds)}) AND ` : sql`${everyKey(db)} AND `;
  // Named apart: PostgreSQL's rows are objects, where seven columns all called `max` would be one.
  const days = Array.from(
    { length: 7 },
    (_, i) => sql`max(CASE WHEN bucket = ${start + i * DAY} THEN credits END) AS ${sql.raw(`d${i}`)}`,
  );
  const week = await rowArrays<[keyId: string, ...credits: (number | null)[]]>(
    db,
    sql`SELECT key_id, ${sql.join(days, sql`, `)} FROM usage_key_day
       WHERE ${only}bucket >= ${start} GROUP BY key_id`,
  );
  const byKey = new Map<string, number[]>();
  for (const [keyId, ...credits] of week)
    byKey.set(
      keyId,
      credits.map((c) => c ?? 0),
    );
  return byKey;
}

/** A key with its flags, not yet a row: each row's object is made once, with its days. */
type FlaggedKey = { key: KeyView; ipGroups: number; flags: HygieneFlag[] };

/** Every key by name with its network groups of the week and its flags: what every row and the counts need. */
async function flaggedKeys(db: Db, now: number, start: number): Promise<FlaggedKey[]> {
  const groups = await rows<{ key_id: string; n: number }>(
    db,
    sql`SELECT key_id, count(DISTINCT ${ipGroupSql(db)}) AS n FROM key_networks
       WHERE last_seen_at >= ${start} GROUP BY key_id`,
  );
  const ipGroups = new Map(groups.map((g) => [g.key_id, g.n]));
  return (await listKeys({ db })).map((key) => {
    const n = ipGroups.get(key.id) ?? 0;
    return { key, ipGroups: n, flags: flagsFor(key, n, now) };
  });
}

/** Keys with their week by day, in the order given. */
function withDays(keys: FlaggedKey[], days: Map<string, number[]>): KeyRowView[] {
  return keys.map(({ key, ipGroups, flags }) => {
    const series = days.get(key.id) ?? new Array<number>(7).fill(0);
    return { ...key, daily: series, credits7d: series.reduce((a, b) => a + b, 0), ipGroups, flags };
  });
}

/** The first of the 7 days the table shows (today included). */
const weekStart = (now: number) => floorTo(now, DAY) - 6 * DAY;

/** Every key's row, by name: the whole list the keys page shows a page of (pageOfKeyRows). */
export async function listKeyRows(deps: { db: Db }, now: number): Promise<KeyRowView[]> {
  const start = weekStart(now);
  const keys = await flaggedKeys(deps.db, now, start);
  return withDays(keys, await dailyCredits(deps.db, start, null));
}

/** A key with its week's credits and flags: a keys CSV line, without the row view's copy of the key. */
export type KeyWeek = { key: KeyView; credits7d: number; flags: HygieneFlag[] };

/**
 * Every key by name with its last 7 days' credits (summed as listKeyRows sums them, day by day)
 * and its flags: the CSV export's lines. No row object per key spread from its view (a thousand
 * of them, and their garbage, cost the export more than its queries).
 */
export async function listKeyWeeks(deps: { db: Db }, now: number): Promise<KeyWeek[]> {
  const start = weekStart(now);
  const keys = await flaggedKeys(deps.db, now, start);
  const days = await dailyCredits(deps.db, start, null);
  return keys.map(({ key, flags }) => {
    let credits7d = 0;
    for (const c of days.get(key.id) ?? []) credits7d += c;
    return { key, credits7d, flags };
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

/**
 * One page of the keys table (by name), with the counts over every key: every key's flags are
 * computed (the count needs them), but days are read for the page's rows only (a hundred keys'
 * index descents into the day sums instead of a thousand).
 */
export async function pageOfKeyRows(deps: { db: Db }, now: number, page: number): Promise<KeyPage> {
  const start = weekStart(now);
  const all = await flaggedKeys(deps.db, now, start);
  const pages = Math.max(1, Math.ceil(all.length / KEYS_PER_PAGE));
  const shown = Math.min(Math.max(1, page), pages);
  const keys = all.slice((shown - 1) * KEYS_PER_PAGE, shown * KEYS_PER_PAGE);
  const days = await dailyCredits(
    deps.db,
    start,
    keys.map((k) => k.key.id),
  );
  return {
    rows: withDays(keys, days),
    total: all.length,
    flagged: all.filter((k) => k.flags.length > 0).length,
    page: shown,
    pages,
  };
}
