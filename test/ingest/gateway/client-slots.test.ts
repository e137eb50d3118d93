import { describe, expect, it } from 'vitest';
import { clientOf, createClientSlots } from '../../../server/ingest/gateway/client-slots.ts';

describe('createClientSlots', () => {
  it('gives each client up to max slots and takes them back', () => {
    const slots = createClientSlots(2);
    expect(slots.take('a')).toBe(true);
    expect(slots.take('a')).toBe(true);
    expect(slots.take('a')).toBe(false);
    // Another client is not affected by a busy one.
    expect(slots.take('b')).toBe(true);
    slots.give('a');
    expect(slots.inFlight('a')).toBe(1);
    expect(slots.take('a')).toBe(true);
    slots.give('a');
    slots.give('a');
    slots.give('b');
    expect(slots.inFlight('a')).toBe(0);
    expect(slots.inFlight('b')).toBe(0);
  });
});

describe('clientOf', () => {
  it.each([
    ['127.0.0.2', '127.0.0.2'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::9', '2001:db8:1:2::/64'],
    ['2001:0DB8:0001:0002:ffff::1', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1:2:3:4', 'fe80:0:0:0::/64'],
    [null, 'unknown'],
  ])('counts %s as %s', (ip, client) => {
    expect(clientOf(ip)).toBe(client);
  });
});
