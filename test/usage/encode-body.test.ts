import { describe, expect, it } from 'vitest';
import { encodeBody } from '../../server/usage/encode-body.ts';

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
});
