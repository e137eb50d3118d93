/** Who still uses a key and when it was last used, from raw events, on both stores. */

import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { DAY, HOUR, MINUTE } from '../../server/clock.ts';
import { keys } from '../../server/db/schema/index.ts';
import { execute } from '../../server/db/transaction.ts';
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
  it('finds the last use before a time inside a day that runs past it, and in the day retention cut', async () => {
    const earlier = T0 - DAY - 2 * HOUR;
    await recordUsage(deps, [
      use('d1', earlier, '203.0.113.7', 'node/1'),
      use('a1', T0 - HOUR, '203.0.113.7', 'node/1'),
      use('b1', T0 + HOUR, null, 'curl/8'),
    ]);
    // The day of T0 has its last event after each `to` below: the answer is read from raw events.
    expect(await lastUseOfKey(deps.db, 'k_old', T0)).toBe(T0 - HOUR);
    expect(await lastUseOfKey(deps.db, 'k_old', T0 - 2 * HOUR)).toBe(earlier);
    expect(await lastUseOfKey(deps.db, 'k_old', earlier)).toBeNull();
    expect(await lastUseOfKey(deps.db, 'k_other', T0 + DAY)).toBeNull();
    // Retention with its cutoff inside the earlier day, as server/jobs/retention.ts deletes: that
    // day's callers go (the day starts before the cutoff), its event after the cutoff stays.
    const cutoff = earlier - HOUR;
    await execute(deps.db, sql`DELETE FROM key_clients WHERE day < ${cutoff}`);
    await execute(deps.db, sql`DELETE FROM usage_events WHERE ts < ${cutoff}`);
    expect(await lastUseOfKey(deps.db, 'k_old', T0 - 2 * HOUR)).toBe(earlier);
    expect(await lastUseOfKey(deps.db, 'k_old', T0 + DAY)).toBe(T0 + HOUR);
    expect(await clientsOfKey(deps.db, 'k_old', cutoff, T0)).toEqual([
      {
        source_ip: '203.0.113.7',
        user_agent: 'node/1',
        operation: 'face-swap',
        requests: 4,
        last_seen: T0 - HOUR,
      },
    ]);
  });
  it('reads the clients of the days the key was used, across days it was not', async () => {
    await recordUsage(deps, [
      use('g1', T0 - 5 * DAY, '198.51.100.4', 'node/1'),
      use('g2', T0 - 2 * DAY - HOUR, '198.51.100.4', 'node/1', 'text-to-video'),
      use('g3', T0 - HOUR, '198.51.100.4', 'node/1'),
    ]);
    expect(await clientsOfKey(deps.db, 'k_old', T0 - 7 * DAY, T0)).toEqual([
      {
        source_ip: '198.51.100.4',
        user_agent: 'node/1',
        operation: 'face-swap',
        requests: 4,
        last_seen: T0 - HOUR,
      },
      {
        source_ip: '198.51.100.4',
        user_agent: 'node/1',
        operation: 'text-to-video',
        requests: 2,
        last_seen: T0 - 2 * DAY - HOUR,
      },
    ]);
    expect(await clientsOfKey(deps.db, 'k_old', T0 - 5 * DAY + 1, T0 - HOUR)).toEqual([
      {
        source_ip: '198.51.100.4',
        user_agent: 'node/1',
        operation: 'text-to-video',
        requests: 2,
        last_seen: T0 - 2 * DAY - HOUR,
      },
    ]);
    // Minute retention shorter than the events': days whose minutes are gone are read whole.
    const all = await clientsOfKey(deps.db, 'k_old', T0 - 7 * DAY, T0);
    await execute(deps.db, sql`DELETE FROM usage_minute WHERE bucket < ${T0 - 2 * DAY}`);
    expect(await clientsOfKey(deps.db, 'k_old', T0 - 7 * DAY, T0)).toEqual(all);
  });
});
