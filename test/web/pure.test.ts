/** Pure helpers behind the pages: hygiene flags, the weekly usual-range band, zone boundaries. */
import { describe, expect, it } from 'vitest';
import { DAY } from '../../server/clock.ts';
import type { KeyView } from '../../server/keys/keys.ts';
import { dayPeriod, monthPeriod } from '../../server/time-zone.ts';
import { WEEK_MS, weeklyBand } from '../../web/client/lib/baseline.ts';
import { flagsFor } from '../../web/queries/key-table.ts';
import { T0 } from '../helpers/store.ts';

const key = (over: Partial<KeyView>): KeyView => ({
  id: 'key_1',
  name: 'k',
  provider: 'magichour',
  last4: null,
  fingerprint: null,
  environment: null,
  owner: null,
  status: 'active',
  budget_credits: null,
  notes: null,
  time_zone: null,
  created_at: new Date(T0 - 10 * DAY).toISOString(),
  revoked_at: null,
  first_seen_at: null,
  last_used_at: new Date(T0 - DAY).toISOString(),
  ...over,
});
const codes = (k: KeyView, groups = 1) => flagsFor(k, groups, T0).map((f) => f.code);

describe('flagsFor', () => {
  it('flags old, unused, discovered, revoked-but-used and many-network keys, and nothing on a healthy key', () => {
    expect(codes(key({}))).toEqual([]);
    expect(codes(key({ created_at: new Date(T0 - 91 * DAY).toISOString() }))).toEqual(['rotate']);
    expect(
      codes(
        key({
          created_at: new Date(T0 - 40 * DAY).toISOString(),
          last_used_at: new Date(T0 - 31 * DAY).toISOString(),
        }),
      ),
    ).toEqual(['unused']);
    expect(codes(key({ created_at: new Date(T0 - 40 * DAY).toISOString(), last_used_at: null }))).toEqual([
      'unused',
    ]);
    expect(codes(key({ status: 'discovered' }))).toEqual(['discovered']);
    expect(codes(key({ status: 'revoked', revoked_at: new Date(T0 - 2 * DAY).toISOString() }))).toEqual([
      'revoked_used',
    ]);
    expect(
      codes(
        key({
          status: 'revoked',
          revoked_at: new Date(T0 - 2 * DAY).toISOString(),
          last_used_at: new Date(T0 - 3 * DAY).toISOString(),
        }),
      ),
    ).toEqual([]);
    expect(codes(key({}), 3)).toEqual(['many_sources']);
  });
});

describe('weeklyBand', () => {
  it('takes the min and max of the same bucket over the four previous weeks', () => {
    const t = T0;
    const history = new Map([
      [t - WEEK_MS, 10],
      [t - 2 * WEEK_MS, 30],
      [t - 3 * WEEK_MS, 20],
      [t - 4 * WEEK_MS, 0],
    ]);
    expect(weeklyBand([t], history)).toEqual({ low: [0], high: [30] });
  });

  it('gives no band when fewer than two weeks of history had usage', () => {
    expect(weeklyBand([T0], new Map([[T0 - WEEK_MS, 5]]))).toBeNull();
  });
});

describe('zone boundaries', () => {
  it('finds local midnight and the first of the month in a zone with an offset', () => {
    // T0 is 2026-11-26 12:00 UTC = 07:00 in New York (UTC-5 in November).
    expect(new Date(dayPeriod(T0, 'America/New_York').start).toISOString()).toBe('2026-11-26T05:00:00.000Z');
    // Nov 1 2026 00:00 in New York is still daylight time (UTC-4).
    expect(new Date(monthPeriod(T0, 'America/New_York').start).toISOString()).toBe(
      '2026-11-01T04:00:00.000Z',
    );
    expect(new Date(monthPeriod(T0, 'UTC').start).toISOString()).toBe('2026-11-01T00:00:00.000Z');
  });
});
