/** The keys table: each key with its last 7 days by day, and the hygiene flags it earns. */
import { DAY, floorTo } from '../../server/clock.ts';
import type { Db, Sqlite } from '../../server/db/client.ts';
import { statement } from '../../server/db/statements.ts';
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

/** An IP's network group: /16 for IPv4, /32 for IPv6 — a rough "which environment" signal. */
const IP_GROUP_SQL = `CASE WHEN instr(source_ip, '.') > 0
  THEN substr(source_ip, 1, instr(source_ip, '.') + instr(substr(source_ip, instr(source_ip, '.') + 1), '.') - 1)
  ELSE substr(source_ip, 1, 9) END`;

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
export function ipGroupCount(sqlite: Sqlite, keyId: string, since: number): number {
  return (
    statement<[string, number], number>(
      sqlite,
      `SELECT count(DISTINCT ${IP_GROUP_SQL}) FROM usage_events WHERE key_id = ? AND ts >= ? AND source_ip IS NOT NULL`,
    )
      .pluck()
      .get(keyId, since) ?? 0
  );
}

export function listKeyRows(deps: { db: Db; sqlite: Sqlite }, now: number): KeyRowView[] {
  const start = floorTo(now, DAY) - 6 * DAY;
  const daily = statement<[number], { key_id: string; bucket: number; credits: number }>(
    deps.sqlite,
    'SELECT key_id, bucket, sum(credits) AS credits FROM usage_day WHERE bucket >= ? GROUP BY key_id, bucket',
  ).all(start);
  const groups = statement<[number], { key_id: string; n: number }>(
    deps.sqlite,
    `SELECT key_id, count(DISTINCT ${IP_GROUP_SQL}) AS n FROM usage_events
       WHERE ts >= ? AND source_ip IS NOT NULL GROUP BY key_id`,
  ).all(start);
  const ipGroups = new Map(groups.map((g) => [g.key_id, g.n]));
  const byKey = new Map<string, number[]>();
  for (const row of daily) {
    const series = byKey.get(row.key_id) ?? new Array<number>(7).fill(0);
    const i = Math.round((row.bucket - start) / DAY);
    if (i >= 0 && i < 7) series[i] = row.credits;
    byKey.set(row.key_id, series);
  }
  return listKeys(deps).map((key) => {
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
