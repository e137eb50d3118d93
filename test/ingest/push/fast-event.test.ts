/**
 * The hand-checked push event agrees with zod: whatever it accepts, PushEventSchema accepts with
 * the same output; what it leaves to zod includes every invalid event; and a batch gives the same
 * events, or the same named errors, as zod alone.
 */
import { describe, expect, it } from 'vitest';
import { fakeClock } from '../../../server/clock.ts';
import { issuesFromZod } from '../../../server/errors.ts';
import { PUSH_EVENT_FIELDS, parseCommonEvent } from '../../../server/ingest/push/fast-event.ts';
import { PushEventSchema, parsePushBatch, toUsageEvent } from '../../../server/ingest/push/push.ts';
import { createRng } from '../../../server/simulate/random.ts';
import { T0 } from '../../helpers/store.ts';

const base = {
  id: 'evt_1',
  key: 'prod-web',
  ts: '2026-11-26T10:00:00Z',
  credits: 24,
  requests: 1,
  operation: 'face-swap',
  status: 200,
  source_ip: '203.0.113.7',
  user_agent: 'magic-hour-node/0.43.1',
  project_id: 'cm1234',
  latency_ms: 812.5,
  origin: 'https://app.example.com/page?q=1',
};

/** Values tried for each field: valid, edge and invalid ones. */
const VARIANTS: Record<string, unknown[]> = {
  id: ['', 'x', 'a'.repeat(128), 'a'.repeat(129), 7, null],
  key: [
    '  k  ',
    '',
    '   ',
    'k'.repeat(200),
    ` ${'k'.repeat(200)} `,
    'k'.repeat(201),
    `sha256:${'a'.repeat(64)}`,
    3,
    null,
  ],
  ts: [
    0,
    -1,
    1.5,
    8.64e15,
    8.64e15 + 1,
    '1796000000000',
    '12345678901234567',
    '2026-11-26T10:00Z',
    '2026-11-26T10:00:00.123456789+05:30',
    '2026-11-26T10:00:00+0530',
    '2026-13-40T10:00:00Z',
    '2026-11-26 10:00:00Z',
    '2026-11-26',
    null,
    true,
  ],
  credits: [0, -0.5, 1e9, 1e9 + 1, 0.001, '5', null, Number.NaN],
  requests: [1, 0, 1e6, 1e6 + 1, 2.5, '2', null],
  operation: [
    '',
    '  ai-image  ',
    'a/b:c.d-e_f',
    'a b',
    'ü',
    'x'.repeat(100),
    'x'.repeat(101),
    ` ${'x'.repeat(100)} `,
    null,
    5,
  ],
  status: [100, 99, 599, 600, 401, 200.5, '200', null],
  source_ip: [
    '203.0.113.7',
    '256.1.1.1',
    '01.2.3.4',
    '2001:db8::1',
    '::1',
    '2001:db8::zz',
    '1.2.3',
    '',
    null,
    7,
  ],
  user_agent: ['', 'u'.repeat(500), 'u'.repeat(501), null, 1],
  project_id: ['p'.repeat(200), 'p'.repeat(201), null, {}],
  latency_ms: [0, -1, 3.6e6, 3.6e6 + 1, null, '5'],
  origin: [
    'https://a.example',
    'http://localhost:3000/x',
    'not a url',
    'javascript:alert(1)',
    'o'.repeat(2001),
    '',
    null,
    1,
  ],
};

function items(): unknown[] {
  const out: unknown[] = [base, { id: 'only', key: 'k' }];
  for (const [field, values] of Object.entries(VARIANTS)) {
    for (const v of values) out.push({ ...base, [field]: v });
    const { [field]: _, ...without } = base as Record<string, unknown>;
    out.push(without);
  }
  out.push({ ...base, extra: 1 }, [], null, 'x', 5, { ...base, __proto__: { id: 'x' } });
  out.push(JSON.parse('{"id":"a","key":"k","__proto__":{"x":1}}'));
  // Random mixes of the variants.
  const rng = createRng(21);
  for (let n = 0; n < 3000; n++) {
    const e: Record<string, unknown> = { ...base };
    for (const [field, values] of Object.entries(VARIANTS)) {
      const r = rng.next();
      if (r < 0.15) e[field] = rng.pick(values);
      else if (r < 0.25) delete e[field];
    }
    out.push(e);
  }
  return out;
}

describe('the fast path field list', () => {
  // A field dropped from the schema but kept here would let the fast path accept what zod refuses.
  it("is exactly PushEventSchema's fields", () => {
    expect([...PUSH_EVENT_FIELDS].sort()).toEqual(Object.keys(PushEventSchema.shape).sort());
  });
});

describe('the hand-checked push event', () => {
  it('accepts only what zod accepts, with the same output', () => {
    let fast = 0;
    let invalid = 0;
    for (const item of items()) {
      const mine = parseCommonEvent(item);
      const zod = PushEventSchema.safeParse(item);
      if (!zod.success) invalid++;
      if (mine === undefined) continue;
      fast++;
      expect(zod.success, JSON.stringify(item)).toBe(true);
      expect(mine).toEqual(zod.data);
    }
    // Both paths are exercised: most events take the fast one, many are invalid.
    expect(fast).toBeGreaterThan(500);
    expect(invalid).toBeGreaterThan(1000);
  });

  it('takes the fast path for the usual shapes', () => {
    for (const item of [base, { id: 'a', key: 'k' }, { ...base, ts: 1796000000000, source_ip: null }]) {
      expect(parseCommonEvent(item)).toBeDefined();
    }
  });

  it('gives a batch the same events, or the same named errors, as zod alone', () => {
    const clock = fakeClock(T0);
    const zodOnly = (events: unknown[]) => {
      const issues = events.flatMap((item, i) => {
        const r = PushEventSchema.safeParse(item);
        return r.success ? [] : issuesFromZod(r.error.issues, ['events', String(i)]);
      });
      return issues;
    };
    const all = items();
    for (let i = 0; i < all.length; i += 50) {
      const batch = all.slice(i, i + 50);
      const expected = zodOnly(batch);
      let got: unknown;
      try {
        got = parsePushBatch({ events: batch }, clock);
      } catch (e) {
        got = (e as { issues?: unknown }).issues;
      }
      if (expected.length === 0) {
        expect(got).toEqual(batch.map((item) => toUsageEvent(PushEventSchema.parse(item), T0, 'push')));
      } else {
        // Future timestamps are checked after the schema; only schema issues are compared.
        expect(
          (got as { path: string }[]).filter(
            (x) => !/ts$/.test(x.path) || expected.some((y) => y.path === x.path),
          ),
        ).toEqual(expected);
      }
    }
  });
});
