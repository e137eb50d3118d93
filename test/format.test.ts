import { describe, expect, it } from 'vitest';
import { formatNumber } from '../server/format.ts';

describe('formatNumber', () => {
  it('writes what toLocaleString writes, whichever digit counts were asked before', () => {
    const values = [0, 0.4, 0.05, 12_345.6, 99.95, 100.5, -7.25, 1e21, 123_456_789.123, Number.NaN];
    for (const digits of [undefined, 0, 1, 2, 0, undefined]) {
      for (const n of values) {
        const expected = n.toLocaleString('en-US', {
          maximumFractionDigits: digits ?? (Math.abs(n) >= 100 || Number.isInteger(n) ? 0 : 1),
        });
        expect(formatNumber(n, digits), `${n} ${digits}`).toBe(expected);
      }
    }
    expect(formatNumber(12_345.67)).toBe('12,346');
    expect(formatNumber(0.44)).toBe('0.4');
    expect(formatNumber(2.345, 2)).toBe('2.35');
  });
});
