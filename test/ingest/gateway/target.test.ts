import { describe, expect, it } from 'vitest';
import { gatewayPath } from '../../../server/ingest/gateway/target.ts';

const P = '/gw/magichour';

describe('gatewayPath', () => {
  it.each([
    ['/gw/magichour/v1/ai-image-generator?trace=1', '/v1/ai-image-generator?trace=1'],
    ['/gw/magichour/', '/'],
    ['/gw/magichour', '/'],
    // A query straight after the prefix still gives an origin-form target.
    ['/gw/magichour?x=1', '/?x=1'],
    ['http://keywatch:8787/gw/magichour/v1/face-swap?a=b', '/v1/face-swap?a=b'],
    ['http://keywatch:8787/gw/magichour?x=1', '/?x=1'],
  ])('forwards %s as %s', (target, expected) => {
    expect(gatewayPath(target, P)).toBe(expected);
  });

  it.each([
    '/gw/magichourx',
    '/gw/magichour-v2/v1/face-swap',
    '/healthz',
    '/',
    '*',
    'keywatch:8787',
    'ftp://keywatch/gw/magichour/v1',
  ])('does not claim %s', (target) => {
    expect(gatewayPath(target, P)).toBeNull();
  });
});
