/**
 * The monthly usage CSV and the keys CSV are written straight into bytes (csv-runs.ts,
 * dashboard-reads.ts): byte for byte the text csvLines writes of the rows they were written from
 * before, on both stores, with names that need quoting or defusing and fractional credits.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Group } from '../../server/usage/series.ts';
import { csvLines } from '../../web/csv.ts';
import { dashboardReadTasks } from '../../web/dashboard-reads.ts';
import { listKeyRows } from '../../web/queries/key-table.ts';
import { monthTotals } from '../../web/queries/month-totals.ts';
import { forEachStore, T0, type TestDeps } from '../helpers/store.ts';
import { mixedUsage, recordUsage } from '../helpers/usage.ts';

let deps: TestDeps;
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

forEachStore((_kind, open) => {
  beforeEach(async () => {
    deps = await open({ KEYWATCH_TZ: 'America/New_York' });
    // Tenths of credits: sums such as 3.2000000000000006, written as String() writes them.
    const events = mixedUsage(['web', '=cmd', 'cron,"x"', 'ünïcode', 'quiet'], 600, T0);
    await recordUsage(
      deps,
      events.map((e) => ({ ...e, credits: (e.credits ?? 0) + 0.1 })),
    );
  }, 60_000);
  afterEach(() => deps.cleanup());

  describe('CSV exports written into bytes', () => {
    it('monthly usage: the lines of each group month by month, in total and by every grouping', async () => {
      for (const group of [undefined, 'key', 'environment', 'operation'] as (Group | undefined)[]) {
        const groups = await monthTotals(deps.db, {
          now: deps.clock.now(),
          timeZone: deps.config.timeZone,
          count: 12,
          dropLeadingEmpty: true,
          ...(group && { group }),
        });
        const header = [...(group ? [group] : []), 'month', 'partial', 'credits', 'requests', 'errors'];
        const rows = groups.flatMap((g) =>
          g.months.map((m) => [
            ...(group ? [g.group] : []),
            m.month,
            m.partial ? 'yes' : 'no',
            m.credits,
            m.requests,
            m.errors,
            m.auth_failures,
          ]),
        );
        expect(rows.length, String(group)).toBeGreaterThan(2);
        const expected = [...csvLines([...header, 'auth_failures'], rows)].join('');
        expect(text(await dashboardReadTasks.monthlyCsv(deps, group ? { group } : {})), String(group)).toBe(
          expected,
        );
      }
    });

    it('keys: every key with its week and flags', async () => {
      const rows = (await listKeyRows(deps, deps.clock.now())).map((k) => [
        k.id,
        k.name,
        k.last4,
        k.environment,
        k.owner,
        k.status,
        k.created_at,
        k.last_used_at,
        k.revoked_at,
        k.credits7d,
        k.flags.map((f) => f.code).join(' '),
      ]);
      expect(rows.some((r) => typeof r[9] === 'number' && !Number.isInteger(r[9]))).toBe(true);
      const header = ['id', 'name', 'last4', 'environment', 'owner', 'status', 'created_at'];
      const expected = [
        ...csvLines([...header, 'last_used_at', 'revoked_at', 'credits_7d', 'flags'], rows),
      ].join('');
      expect(text(await dashboardReadTasks.keysCsv(deps))).toBe(expected);
    });
  });
});
