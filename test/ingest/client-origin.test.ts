import { describe, expect, it } from 'vitest';
import { clientOriginOf } from '../../server/ingest/client-origin.ts';

describe('clientOriginOf', () => {
  it.each([
    ['https://shop.example.com', undefined, 'https://shop.example.com'],
    ['HTTPS://Shop.Example.com', undefined, 'https://shop.example.com'],
    [undefined, 'https://shop.example.com/cart?session=abc#x', 'https://shop.example.com'],
    [undefined, 'http://localhost:5173/', 'http://localhost:5173'],
    ['https://a.example', 'https://b.example/page', 'https://a.example'],
    ['null', undefined, 'null'],
    ['chrome-extension://abcdefghijklmnop', undefined, 'chrome-extension://abcdefghijklmnop'],
    ['garbage', 'https://b.example/x', 'https://b.example'],
    ['', '', null],
    [undefined, undefined, null],
    ['not a url', 'also not', null],
  ])('Origin %s, Referer %s -> %s', (origin, referer, expected) => {
    expect(clientOriginOf(origin, referer)).toBe(expected);
  });

  it('never keeps a path, query or user info', () => {
    const o = clientOriginOf(undefined, 'https://user:pass@shop.example.com:8443/a/b?key=mhk_live_secret');
    expect(o).toBe('https://shop.example.com:8443');
  });
});
