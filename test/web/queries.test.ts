/** Server-side queries behind the pages, on a real migrated SQLite file and a real PostgreSQL database. */
import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DAY, HOUR } from '../../server/clock.ts';
import { keys as keysTable } from '../../server/db/schema/index.ts';
import { rows } from '../../server/db/transaction.ts';
import { sourceFreshness } from '../../server/ingest/health.ts';
import type { UsageEvent } from '../../server/usage/record-events.ts';
import { ipGroupCount, KEYS_PER_PAGE, listKeyRows, pageOfKeyRows } from '../../web/queries/key-table.ts';
import { monthTotals } from '../../web/queries/month-totals.ts';
import { sumCredits, topKeys } from '../../web/queries/spend.ts';
import { forEachStore, T0, type TestDeps } from '../helpers/store.ts';
import { recordUsage } from '../helpers/usage.ts';

let n = 0;
const event = (source: string, key: string, ts: number, extra: Partial<UsageEvent> = {}): UsageEvent => ({
  source,
  eventId: `e${n++}`,
  key: { by: 'ref', value: key },
  ts,
  credits: 10,
  requests: 1,
  status: 200,
  operation: 'face-swap',
  ...extra,
});

forEachStore((_kind, open) => {
  let deps: TestDeps;
  beforeEach(async () => {
    deps = await open();
  });
  afterEach(() => deps.cleanup());

  describe('page queries', () => {
    it('reports the newest event and last-hour count per source', async () => {
      await recordUsage(deps, [
        event('push', 'a', T0 - 3 * HOUR),
        event('push', 'a', T0 - 30 * 60_000),
        event('push', 'b', T0 - 10 * 60_000),
        event('gateway', 'a', T0 - 2 * HOUR),
      ]);
      expect(await sourceFreshness(deps.db, T0)).toEqual([
        { source: 'gateway', last_event_at: T0 - 2 * HOUR, events_last_hour: 0, errors_last_hour: 0 },
        { source: 'push', last_event_at: T0 - 10 * 60_000, events_last_hour: 2, errors_last_hour: 0 },
      ]);
    });

    it('sums credits over hours and ranks keys by spend', async () => {
      await recordUsage(deps, [
        event('push', 'small', T0 - 2 * HOUR, { credits: 5 }),
        event('push', 'big', T0 - 2 * HOUR, { credits: 500 }),
        event('push', 'big', T0 - 26 * HOUR, { credits: 1000 }),
      ]);
      expect((await sumCredits(deps.db, T0 - 24 * HOUR, T0)).credits).toBe(505);
      expect((await topKeys(deps.db, T0 - 48 * HOUR, T0)).map((k) => [k.name, k.credits])).toEqual([
        ['big', 1500],
        ['small', 5],
      ]);
    });

    it('counts the networks a key was seen from (/16 for IPv4)', async () => {
      const ips = ['203.0.113.7', '203.0.9.9', '198.51.100.1', '192.0.2.1', '2001:db8::1'];
      await recordUsage(
        deps,
        ips.map((ip) => event('push', 'k', T0 - HOUR, { sourceIp: ip })),
      );
      const [{ id }] = (await rows<{ id: string }>(deps.db, sql`SELECT id FROM keys WHERE name = 'k'`)) as [
        { id: string },
      ];
      expect(await ipGroupCount(deps.db, id, T0 - 2 * HOUR)).toBe(4);
      expect(await ipGroupCount(deps.db, id, T0)).toBe(0);
    });

    it('reads a keys page with the same rows as the list of every key, days included, and counts over all', async () => {
      // More keys than a page, named so the second page starts mid-list; spend on some days of the week.
      const names = Array.from({ length: KEYS_PER_PAGE + 7 }, (_, i) => `key-${String(i).padStart(3, '0')}`);
      await recordUsage(
        deps,
        names.flatMap((name, i) => [
          // Every key is seen 8 days ago (outside the week); two in three also inside it.
          event('push', name, T0 - 8 * DAY, { credits: 1000 }),
          ...(i % 3 === 0 ? [] : [event('push', name, T0 - (i % 7) * DAY - HOUR, { credits: i + 0.5 })]),
        ]),
      );
      const all = await listKeyRows(deps, T0);
      expect(all).toHaveLength(names.length);
      expect(all.filter((k) => k.credits7d > 0).length).toBeGreaterThan(KEYS_PER_PAGE / 2);
      for (const page of [1, 2]) {
        const shown = await pageOfKeyRows(deps, T0, page);
        expect(shown.rows).toEqual(all.slice((page - 1) * KEYS_PER_PAGE, page * KEYS_PER_PAGE));
        expect(shown).toMatchObject({ total: names.length, page, pages: 2 });
        expect(shown.flagged).toBe(all.filter((k) => k.flags.length > 0).length);
      }
      expect((await pageOfKeyRows(deps, T0, 9)).page).toBe(2);
    });

    it('lists the largest groups of a month table and sums the rest as one, month by month', async () => {
      const keys = ['a', 'b', 'c', 'd', 'e'];
      await recordUsage(
        deps,
        keys.flatMap((k, i) => [
          event('push', k, T0 - 40 * 24 * HOUR, { credits: 10 * (i + 1) }),
          event('push', k, T0 - HOUR, { credits: 100 * (i + 1) }),
        ]),
      );
      const opts = { now: T0, timeZone: 'UTC', count: 3, group: 'key' as const };
      const all = await monthTotals(deps.db, opts);
      const top = await monthTotals(deps.db, { ...opts, top: 2 });
      expect(all.map((g) => g.group)).toEqual(['e', 'd', 'c', 'b', 'a']);
      expect(top.map((g) => g.group)).toEqual(['e', 'd', '(other)']);
      expect(top[2]!.key_id).toBeUndefined();
      const perMonth = (gs: typeof all) =>
        gs[0]!.months.map((_, i) => gs.reduce((s, g) => s + g.months[i]!.credits, 0));
      expect(perMonth(top)).toEqual(perMonth(all));
      expect(top[2]!.months.map((m) => m.credits)).toEqual([0, 60, 600]);
      // One group past the cut is shown as itself, not as "(other)".
      expect((await monthTotals(deps.db, { ...opts, top: 4 })).map((g) => g.group)).toEqual([
        'e',
        'd',
        'c',
        'b',
        'a',
      ]);
      // One request's calls sharing their reads (the capacity page) answer as separate calls do.
      const reads = new Map();
      for (const group of ['key', 'environment', 'operation'] as const) {
        const alone = await monthTotals(deps.db, { ...opts, group, top: 2 });
        expect(await monthTotals(deps.db, { ...opts, group, top: 2, reads }), group).toEqual(alone);
      }
      expect([...reads.keys()]).toHaveLength(3);
    });

    it('month tables add up to the events of each calendar month, in UTC and in a zone with an offset', async () => {
      await deps.db.insert(keysTable).values([
        {
          id: 'a',
          name: 'a',
          provider: 'magichour',
          status: 'active',
          environment: 'production',
          createdAt: 0,
          updatedAt: 0,
        },
        {
          id: 'b',
          name: 'b',
          provider: 'magichour',
          status: 'active',
          environment: null,
          createdAt: 0,
          updatedAt: 0,
        },
      ]);
      const events = Array.from({ length: 600 }, (_, i) =>
        event('push', i % 3 ? 'a' : 'b', T0 - i * 5 * HOUR - 7 * 60_000, {
          credits: 1 + (i % 7),
          operation: i % 2 ? 'face-swap' : '',
        }),
      );
      await recordUsage(deps, events);
      for (const timeZone of ['UTC', 'America/New_York']) {
        const fmt = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit' });
        const monthOf = (ts: number) => fmt.format(ts).slice(0, 7);
        for (const [group, nameOf] of [
          ['key', (e: UsageEvent) => (e.key as { value: string }).value],
          [
            'environment',
            (e: UsageEvent) => ((e.key as { value: string }).value === 'a' ? 'production' : '(none)'),
          ],
          ['operation', (e: UsageEvent) => (e.operation === '' ? '(unknown)' : e.operation)],
          [undefined, () => 'total'],
        ] as const) {
          const got = await monthTotals(deps.db, { now: T0, timeZone, count: 6, ...(group && { group }) });
          const expected = new Map<string, number>();
          for (const e of events) {
            const id = `${nameOf(e)} ${monthOf(e.ts)}`;
            expected.set(id, (expected.get(id) ?? 0) + e.credits);
          }
          for (const g of got) {
            for (const m of g.months) {
              expect(m.credits, `${timeZone} ${g.group} ${m.month}`).toBe(
                expected.get(`${g.group} ${m.month}`) ?? 0,
              );
            }
          }
          expect(got.length).toBeGreaterThan(0);
        }
      }
    });
  });
});
