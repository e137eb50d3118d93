/** Local time in the detection core: offsets, and a team keeping its local schedule across DST raises nothing. */
import { describe, expect, it } from 'vitest';
import { DAY, HOUR } from '../../../server/clock.ts';
import { defaultRuleSet } from '../../../server/detection/core/params.ts';
import { createKeyState } from '../../../server/detection/core/state.ts';
import { zoneOffset } from '../../../server/time-zone.ts';
import { ctxFor, feed, type Traffic } from '../../helpers/detection.ts';

/** Weekdays 09:00–17:00 in `zone`'s own clock. */
const localOffice =
  (zone: string, perMinute: number): Traffic['rate'] =>
  (t) => {
    const local = new Date(t + zoneOffset(zone, t));
    const day = local.getUTCDay();
    const h = local.getUTCHours();
    return day >= 1 && day <= 5 && h >= 9 && h < 17 ? perMinute : 0;
  };

describe('zoneOffset', () => {
  it.each([
    ['America/New_York', Date.UTC(2026, 0, 15, 12), -5 * HOUR],
    ['America/New_York', Date.UTC(2026, 6, 15, 12), -4 * HOUR],
    ['Europe/Berlin', Date.UTC(2026, 0, 15, 12), 1 * HOUR],
    ['Europe/Berlin', Date.UTC(2026, 6, 15, 12), 2 * HOUR],
    ['Asia/Kolkata', Date.UTC(2026, 6, 15, 12), 5.5 * HOUR],
    ['UTC', Date.UTC(2026, 6, 15, 12), 0],
  ])('%s at %i is %i ms', (zone, ts, offset) => {
    expect(zoneOffset(zone, ts)).toBe(offset);
  });
});

/** Strict about hours: only the hours used count as used (no neighbours). */
const strict = () => {
  const rules = defaultRuleSet();
  rules.params.off_hours.neighbor_hours = 0;
  return rules;
};

describe('a team that keeps its local schedule across a daylight-saving change', () => {
  // Both changes of 2026: New York on 8 March and 1 November, Berlin on 29 March and 25 October.
  it.each([
    { zone: 'America/New_York', change: Date.UTC(2026, 2, 8, 7) },
    { zone: 'America/New_York', change: Date.UTC(2026, 10, 1, 6) },
    { zone: 'Europe/Berlin', change: Date.UTC(2026, 2, 29, 1) },
    { zone: 'Europe/Berlin', change: Date.UTC(2026, 9, 25, 1) },
    { zone: 'Asia/Kolkata', change: Date.UTC(2026, 9, 25, 1) },
  ])('$zone: nothing unusual in the two weeks after the change, judged in its zone', ({ zone, change }) => {
    const traffic = [{ rate: localOffice(zone, 2) }];
    const start = change - 21 * DAY;
    const local = ctxFor({ timeZone: zone }, strict());
    const state = createKeyState(60_000);
    feed(state, start, change, traffic, local);
    const after = feed(state, change, change + 14 * DAY, traffic, local);
    expect(after.map((f) => `${f.kind} ${new Date(f.at).toISOString()}`)).toEqual([]);
  });

  it('judged in UTC, the same team looks unusual after the change (so the zone is what helps)', () => {
    const zone = 'America/New_York';
    const change = Date.UTC(2026, 10, 1, 6);
    const traffic = [{ rate: localOffice(zone, 2) }];
    const state = createKeyState(60_000);
    const utc = ctxFor({}, strict());
    feed(state, change - 21 * DAY, change, traffic, utc);
    const after = feed(state, change, change + 14 * DAY, traffic, utc);
    expect(after.filter((f) => f.kind === 'off_hours').length).toBeGreaterThan(0);
  });

  it('states learned in UTC are re-keyed to the zone once, without a burst of findings', () => {
    const zone = 'America/New_York';
    const at = Date.UTC(2026, 9, 5);
    const traffic = [{ rate: localOffice(zone, 2) }];
    const state = createKeyState(60_000);
    feed(state, at - 21 * DAY, at, traffic, ctxFor({}, strict()));
    expect(state.zone).toBeUndefined();
    const after = feed(state, at, at + 7 * DAY, traffic, ctxFor({ timeZone: zone }, strict()));
    expect(state.zone).toBe(zone);
    expect(after).toEqual([]);
  });
});
