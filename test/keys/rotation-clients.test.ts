/** Who still uses a key and when it was last used, from raw events, on both stores. */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { MINUTE } from '../../server/clock.ts';
import { keys } from '../../server/db/schema/index.ts';
import { creditsByKey } from '../../server/invoice/query.ts';
import { clientsOfKey, lastUseOfKey } from '../../server/keys/rotation-clients.ts';
import type { UsageEvent } from '../../server/usage/record-events.ts';
import { forEachStore, T0, type TestDeps } from '../helpers/store.ts';
import { recordUsage } from '../helpers/usage.ts';

const use = (
  id: string,
  ts: number,
  ip: string | null,
  ua: string | null,
  operation = 'face-swap',
): UsageEvent => ({
  source: 'push',
  eventId: id,
  key: { by: 'ref', value: 'old' },
  ts,
  credits: 10,
  requests: 2,
  status: 200,
  operation,
  sourceIp: ip,
  userAgent: ua,
});

forEachStore((_kind, open) => {
  let deps: TestDeps;
  beforeEach(async () => {
    deps = await open();
    await deps.db.insert(keys).values({
      id: 'k_old',
      name: 'old',
      status: 'active',
      environment: 'production',
      createdAt: 0,
      updatedAt: 0,
    });
  });
  afterEach(() => deps.cleanup());

  it("lists each client of the key once, most recently seen first, and the key's last use", async () => {
    await recordUsage(deps, [
      use('a1', T0 - 50 * MINUTE, '203.0.113.7', 'node/1'),
      use('a2', T0 - 20 * MINUTE, '203.0.113.7', 'node/1'),
      use('b1', T0 - 90 * MINUTE, '198.51.100.4', null, 'text-to-video'),
      use('c1', T0 - 300 * MINUTE, null, 'curl/8'),
    ]);
    expect(await clientsOfKey(deps.db, 'k_old', T0 - 120 * MINUTE, T0)).toEqual([
      {
        source_ip: '203.0.113.7',
        user_agent: 'node/1',
        operation: 'face-swap',
        requests: 4,
        last_seen: T0 - 20 * MINUTE,
      },
      {
        source_ip: '198.51.100.4',
        user_agent: null,
        operation: 'text-to-video',
        requests: 2,
        last_seen: T0 - 90 * MINUTE,
      },
    ]);
    expect(await clientsOfKey(deps.db, 'k_old', 0, T0, 1)).toHaveLength(1);
    expect(await lastUseOfKey(deps.db, 'k_old', T0)).toBe(T0 - 20 * MINUTE);
    expect(await lastUseOfKey(deps.db, 'k_old', T0 - 300 * MINUTE)).toBeNull();
    // The invoice's credits per key over the same events.
    expect(await creditsByKey(deps.db, T0 - 6 * 60 * MINUTE, T0 + 1)).toEqual([
      { key_id: 'k_old', key: 'old', environment: 'production', credits: 40 },
    ]);
  });
});
