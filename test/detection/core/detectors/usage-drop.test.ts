/** usage_drop: a steady key that stops or halves is found; office-hours keys, revoked keys and small dips are not. */
import { describe, expect, it } from 'vitest';
import { DAY, HOUR } from '../../../../server/clock.ts';
import {
  between,
  constant,
  ctxFor,
  feed,
  officeHours,
  type Traffic,
  warmKey,
} from '../../../helpers/detection.ts';

const drops = (normal: Traffic[], after: Traffic[], ctx = ctxFor()) => {
  const { state, now } = warmKey(14, normal, ctx);
  return feed(state, now, now + 12 * HOUR, after, ctx).filter((f) => f.kind === 'usage_drop');
};

describe('usage_drop', () => {
  it.each([
    { name: 'a steady key that stops', after: [] as Traffic[], fires: true, within: 2 * HOUR },
    { name: 'a steady key that halves', after: [{ rate: constant(0.5) }], fires: true, within: 6 * HOUR },
    { name: 'a steady key at 85 % (noise, not news)', after: [{ rate: constant(0.85) }], fires: false },
    { name: 'a steady key as usual', after: [{ rate: constant(1) }], fires: false },
  ])('$name', ({ after, fires, within }) => {
    const found = drops([{ rate: constant(1) }], after);
    expect(found.length > 0).toBe(fires);
    if (fires) {
      const first = found[0]!;
      expect(first.window.to - (START_OF(first) ?? 0)).toBeLessThanOrEqual(within! + HOUR);
      expect(first.bucketImpact + first.windowImpact).toBeGreaterThan(0);
      expect(first.observed).toBeLessThan(first.expected);
    }
  });

  it('leaves office-hours keys alone: they are quiet most hours by design', () => {
    expect(drops([{ rate: officeHours(2) }], [])).toEqual([]);
  });

  it('is silent for a revoked key', () => {
    const ctx = ctxFor({ status: 'revoked', revokedAt: 0 });
    expect(drops([{ rate: constant(1) }], [], ctx)).toEqual([]);
  });

  it('is silent for a key being rotated away: its clients are moving to the new key', () => {
    expect(drops([{ rate: constant(1) }], [], ctxFor({ rotating: true }))).toEqual([]);
    // The same stop on the same key, not rotating, is found (the first case above).
    expect(drops([{ rate: constant(1) }], [], ctxFor({ rotating: false })).length).toBeGreaterThan(0);
  });

  it('ends when usage comes back', () => {
    const { state, now } = warmKey(14, [{ rate: constant(1) }]);
    const during = feed(state, now, now + 4 * HOUR, [{ rate: between(0, 0, 0) }]);
    expect(during.some((f) => f.kind === 'usage_drop')).toBe(true);
    const back = feed(state, now + 4 * HOUR, now + DAY, [{ rate: constant(1) }]);
    // The first hour back closes the drop; nothing after it.
    expect(back.filter((f) => f.kind === 'usage_drop' && f.at >= now + 6 * HOUR)).toEqual([]);
  });
});

/** Where the drop's evidence starts (its window). */
const START_OF = (f: { window: { from: number } }) => f.window.from;
