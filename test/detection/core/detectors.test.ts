/**
 * Table-driven tests for every detector: a key with synthetic history (busy, sparse or
 * zero-heavy), then a scenario; the table says which kinds must and must not fire.
 */
import { describe, expect, it } from 'vitest';
import { DAY, HOUR, MINUTE } from '../../../server/clock.ts';
import { createAccountState, stepAccount } from '../../../server/detection/core/account.ts';
import { defaultRuleSet } from '../../../server/detection/core/params.ts';
import {
  between,
  constant,
  ctxFor,
  feed,
  officeHours,
  type Traffic,
  warmKey,
} from '../../helpers/detection.ts';

type Case = {
  name: string;
  history: Traffic[];
  days?: number;
  /** Offset of the scenario from the end of the history, and its length. */
  at?: number;
  minutes: number;
  scenario: (from: number) => Traffic[];
  ctx?: Parameters<typeof ctxFor>[0];
  fires: string[];
  silent: string[];
  /** Fires within this many minutes of the scenario start. */
  within?: number;
};

const busy: Traffic[] = [{ rate: constant(1), credits: 20 }];
const sparse: Traffic[] = [{ rate: officeHours(0.05), credits: 10 }];
const zeroHeavy: Traffic[] = [{ rate: constant(0.01), credits: 10 }];
const leak = (from: number): Traffic[] => [
  ...busy,
  { rate: between(from, from + 2 * DAY, 0.5), credits: 20 },
];

const cases: Case[] = [
  {
    name: 'busy key: a burst of video renders is a credit spike within minutes',
    history: busy,
    minutes: 30,
    scenario: (f) => [...busy, { rate: between(f, f + 30 * MINUTE, 3), op: 'video-to-video', credits: 900 }],
    fires: ['credit_spike'],
    silent: ['sustained_elevation', 'off_hours'],
    within: 10,
  },
  {
    name: 'busy key: normal traffic is quiet',
    history: busy,
    minutes: 6 * 60,
    scenario: () => busy,
    fires: [],
    silent: ['credit_spike', 'sustained_elevation', 'operation_mix', 'new_source', 'off_hours'],
  },
  {
    name: 'sparse key: one extra cheap request stays under the credit floor',
    history: sparse,
    at: 10 * HOUR,
    minutes: 60,
    scenario: (f) => [...sparse, { rate: between(f, f + MINUTE, 3), credits: 10 }],
    fires: [],
    silent: ['credit_spike'],
  },
  {
    name: 'zero-heavy key: thirty expensive requests in ten minutes',
    history: zeroHeavy,
    minutes: 20,
    scenario: (f) => [
      ...zeroHeavy,
      { rate: between(f, f + 10 * MINUTE, 3), op: 'text-to-video', credits: 600 },
    ],
    fires: ['credit_spike', 'operation_mix'],
    silent: [],
    within: 10,
  },
  {
    name: 'busy key: +50% for two days is a sustained elevation within 12 hours',
    history: busy,
    days: 14,
    minutes: 2 * 24 * 60,
    scenario: leak,
    fires: ['sustained_elevation'],
    silent: ['off_hours'],
    within: 12 * 60,
  },
  {
    name: 'office-hours key: use at 02:00 on a weekday is off-hours',
    history: [{ rate: officeHours(0.5), credits: 10 }],
    at: 2 * HOUR,
    minutes: 60,
    scenario: (f) => [{ rate: between(f, f + 30 * MINUTE, 0.3), credits: 10 }],
    fires: ['off_hours'],
    silent: ['dormant_wake'],
    within: 30,
  },
  {
    name: 'office-hours key: use at 10:00 is not off-hours',
    history: [{ rate: officeHours(0.5), credits: 10 }],
    at: 10 * HOUR,
    minutes: 60,
    scenario: (f) => [{ rate: between(f, f + 30 * MINUTE, 0.5), credits: 10 }],
    fires: [],
    silent: ['off_hours'],
  },
  {
    name: 'a key unused for 8 days wakes up',
    history: [{ rate: (t) => (t < Date.UTC(2026, 9, 9) ? 0.2 : 0), credits: 10 }],
    days: 17,
    at: 10 * HOUR,
    minutes: 30,
    scenario: (f) => [{ rate: between(f, f + 10 * MINUTE, 0.5), credits: 10 }],
    fires: ['dormant_wake'],
    silent: [],
    within: 5,
  },
  {
    name: 'use after revocation is revoked_use',
    history: busy,
    minutes: 10,
    ctx: { revokedAt: Date.UTC(2026, 9, 12) },
    scenario: () => busy,
    fires: ['revoked_use'],
    silent: [],
    within: 2,
  },
  {
    name: 'a burst of 401s is auth_failures; the 401s do not count as spend',
    history: busy,
    minutes: 15,
    scenario: (f) => [...busy, { rate: between(f, f + 10 * MINUTE, 4), status: 401, ip: '198.51.100.9' }],
    fires: ['auth_failures'],
    silent: ['credit_spike', 'sustained_elevation'],
    within: 5,
  },
  {
    name: 'an unregistered key in use is discovered_key',
    history: [],
    days: 1,
    minutes: 10,
    ctx: { status: 'discovered' },
    scenario: () => [{ rate: constant(0.5), credits: 10 }],
    fires: ['discovered_key'],
    silent: [],
    within: 5,
  },
  {
    name: 'a new network and client is new_source; the same /24 and an SDK upgrade are not',
    history: busy,
    minutes: 20,
    scenario: (f) => [
      { ...busy[0]!, rate: constant(1), ip: '203.0.113.77', ua: 'magic-hour-node/0.44.0' },
      {
        rate: between(f + 10 * MINUTE, f + 20 * MINUTE, 0.5),
        ip: '192.0.2.5',
        ua: 'curl/8.5.0',
        credits: 20,
      },
    ],
    fires: ['new_source'],
    silent: ['credit_spike'],
    within: 15,
  },
  {
    name: 'same request rate, forty times the credits per request is operation_mix',
    history: busy,
    minutes: 60,
    scenario: () => [{ rate: constant(1), op: 'ai-image-generator', credits: 800 }],
    fires: ['operation_mix'],
    silent: [],
    within: 10,
  },
];

describe('detectors', () => {
  it.each(cases)('$name', (c) => {
    const ctx = ctxFor(c.ctx);
    const { state, now } = warmKey(c.days ?? 10, c.history, ctx);
    const from = now + (c.at ?? 0);
    if (c.at) feed(state, now, from, c.history, ctx);
    const findings = feed(state, from, from + c.minutes * MINUTE, c.scenario(from), ctx, 99);
    const kinds = new Set(findings.map((f) => f.kind));
    for (const k of c.fires) expect(kinds, `${k} should fire`).toContain(k);
    for (const k of c.silent) expect(kinds, `${k} should stay quiet`).not.toContain(k);
    if (c.within !== undefined && c.fires.length) {
      const first = Math.min(...findings.filter((f) => c.fires.includes(f.kind)).map((f) => f.at));
      expect((first - from) / MINUTE).toBeLessThanOrEqual(c.within);
    }
    for (const f of findings) {
      expect(f.score).toBeGreaterThanOrEqual(0.5);
      expect(f.score).toBeLessThanOrEqual(1);
    }
  });

  it('a permanent tripling raises a spike once and becomes the new normal within about a day', () => {
    const { state, now } = warmKey(14, busy);
    const tripled: Traffic[] = [{ rate: constant(3), credits: 20 }];
    const day1 = feed(state, now, now + DAY, tripled);
    expect(day1.some((f) => f.kind === 'credit_spike')).toBe(true);
    const later = feed(state, now + 36 * HOUR, now + 4 * DAY, tripled);
    expect(later.filter((f) => f.kind === 'credit_spike' || f.kind === 'sustained_elevation')).toEqual([]);
  });

  it('warm-up: a brand-new key does not page on its first days', () => {
    const { state, now } = warmKey(3, busy);
    const findings = feed(state, now, now + HOUR, [{ rate: constant(5), credits: 200 }]);
    expect(findings.filter((f) => f.kind === 'credit_spike')).toEqual([]);
  });

  it.each([
    { credits: [300], fires: true },
    { credits: [50, 50], fires: false },
    { credits: [0, 0, 0], fires: false },
  ])('unattributed spend $credits fires: $fires', ({ credits, fires }) => {
    const state = createAccountState();
    const rules = defaultRuleSet();
    const out = credits.map((c, i) => stepAccount(state, i * MINUTE, c, rules));
    expect(out.some((f) => f?.kind === 'unattributed_spend')).toBe(fires);
  });
});
