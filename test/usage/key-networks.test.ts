/** recordEvents keeps key_networks: each key's /24 (/64) networks with first and last use. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DAY, HOUR } from '../../server/clock.ts';
import { recordEvents, type UsageEvent } from '../../server/usage/record-events.ts';
import { listKeyRows } from '../../web/queries/key-table.ts';
import { createTestDeps, T0, type TestDeps } from '../helpers/store.ts';

let deps: TestDeps;
beforeEach(() => {
  deps = createTestDeps();
});
afterEach(() => deps.cleanup());

const event = (id: string, ip: string | null, ts: number): UsageEvent => ({
  source: 'push',
  eventId: id,
  key: { by: 'ref', value: 'k' },
  ts,
  credits: 5,
  requests: 2,
  status: 200,
  operation: 'face-swap',
  sourceIp: ip,
});

describe('key networks', () => {
  it('are upserted on write, counted once per event, and not again for duplicates', () => {
    const batch = [
      event('a', '203.0.113.7', T0 - 3 * HOUR),
      event('b', '203.0.113.99', T0 - HOUR),
      event('c', '2001:db8:1:2::5', T0 - 2 * HOUR),
      event('d', null, T0),
    ];
    recordEvents(deps, batch);
    recordEvents(deps, batch);
    recordEvents(deps, [event('e', '203.0.113.8', T0 - 5 * HOUR)]);
    const rows = deps.sqlite
      .prepare(
        'SELECT network, first_seen_at AS first, last_seen_at AS last, requests FROM key_networks ORDER BY network',
      )
      .all();
    expect(rows).toEqual([
      { network: '2001:db8:1:2::/64', first: T0 - 2 * HOUR, last: T0 - 2 * HOUR, requests: 2 },
      { network: '203.0.113.0/24', first: T0 - 5 * HOUR, last: T0 - HOUR, requests: 6 },
    ]);
  });

  it("flag a key seen from three network groups this week, and forget last month's", async () => {
    recordEvents(deps, [
      event('a', '203.0.113.7', T0 - HOUR),
      event('b', '198.51.100.7', T0 - HOUR),
      event('c', '192.0.2.7', T0 - 20 * DAY),
    ]);
    const [before] = await listKeyRows(deps, T0);
    expect(before!.ipGroups).toBe(2);
    expect(before!.flags.map((f) => f.code)).not.toContain('many_sources');
    recordEvents(deps, [event('d', '192.0.2.8', T0 - 2 * HOUR)]);
    const [after] = await listKeyRows(deps, T0);
    expect(after!.ipGroups).toBe(3);
    expect(after!.flags.map((f) => f.code)).toContain('many_sources');
  });
});
