import { describe, expect, it } from 'vitest';
import {
  asciiBytes,
  copyAt,
  createBodyWriter,
  encodeBody,
  MAX_NUMBER_BYTES,
  writeNumberAt,
} from '../../server/usage/encode-body.ts';

const NUMBERS = [
  0,
  -0,
  7,
  10,
  99,
  100,
  -1,
  -120,
  2 ** 31 - 1,
  -(2 ** 31) + 1,
  -(2 ** 31),
  2 ** 31,
  2 ** 53 - 1,
  -(2 ** 53) + 1,
  2 ** 53,
  1e21,
  0.1 + 0.2,
  -2.5,
  5e-324,
  -1.2345678901234567e-308,
  1.7976931348623157e308,
];

describe('encodeBody', () => {
  it('gives the UTF-8 of the joined pieces, exactly sized, across growth and multi-byte text', () => {
    const pieces = ['', 'a,b\r\n', 'Zürich €5 😀\r\n', 'x'.repeat(100_000), '"ü"'.repeat(30_000), ''];
    const bytes = encodeBody(pieces);
    const expected = new TextEncoder().encode(pieces.join(''));
    expect(bytes.byteLength).toBe(expected.byteLength);
    expect(bytes.buffer.byteLength).toBe(expected.byteLength);
    expect(Buffer.from(bytes).equals(Buffer.from(expected))).toBe(true);
    expect(encodeBody([]).byteLength).toBe(0);
  });

  it('writes numbers as String() does, and cached bytes as they were made', () => {
    const numbers = NUMBERS;
    const out = createBodyWriter();
    const comma = asciiBytes(',');
    for (const n of numbers) {
      out.number(n);
      out.bytes(comma);
    }
    out.text('ü');
    expect(new TextDecoder().decode(out.done())).toBe(`${numbers.map(String).join(',')},ü`);
  });

  it('writes numbers and pieces in place, after one reservation, as String() and the bytes are', () => {
    const out = createBodyWriter();
    out.text('x');
    const comma = asciiBytes(',');
    for (const n of NUMBERS) {
      const buffer = out.reserve(MAX_NUMBER_BYTES + comma.length);
      out.moveTo(copyAt(buffer, writeNumberAt(buffer, out.at(), n), comma));
    }
    const long = asciiBytes('y'.repeat(200));
    out.moveTo(copyAt(out.reserve(long.length), out.at(), long));
    expect(new TextDecoder().decode(out.done())).toBe(`x${NUMBERS.map(String).join(',')},${'y'.repeat(200)}`);
    expect(Math.max(...NUMBERS.map((n) => String(n).length))).toBe(MAX_NUMBER_BYTES);
  });
});
