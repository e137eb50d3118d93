/**
 * The key page's top source IPs and user agents come from the per-day rollup kept on write: the
 * same answers as summing the raw events of those days, batch after batch, nulls included.
 */
import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DAY } from '../../server/clock.ts';
import { statement } from '../../server/db/statements.ts';
import { rows } from '../../server/db/transaction.ts';
import { createRng } from '../../server/simulate/random.ts';
import type { UsageEvent } from '../../server/usage/record-events.ts';
import { ipsOf, userAgentsOf } from '../../web/queries/key-activity.ts';
import { createTestDeps, forEachStore, T0, type TestDeps } from '../helpers/store.ts';
import { recordUsage } from '../helpers/usage.ts';

forEachStore((_kind, open) => {
  let deps: TestDeps;
  beforeEach(async () => {
    deps = await open();
  });
  afterEach(() => deps.cleanup());

  /** What the page showed before the rollup: the raw events summed, biggest first. */
  function fromEvents(column: 'source_ip' | 'user_agent', keyId: string, from: number, to: number) {
    return rows(
      deps.db,
      sql`SELECT coalesce(${sql.raw(column)}, '(not reported)') AS value, sum(requests) AS requests,
         sum(credits) AS credits, max(ts) AS last_seen
       FROM usage_events WHERE key_id = ${keyId} AND ts >= ${from} AND ts < ${to}
       GROUP BY 1 ORDER BY requests DESC, value`,
    );
  }

  describe("a key's callers", () => {
    it('are the raw events of the same days summed, for IPs and agents', async () => {
      const rng = createRng(3);
      const events: UsageEvent[] = Array.from({ length: 1500 }, (_, i) => ({
        source: 'push',
        eventId: `e${i}`,
        key: { by: 'ref', value: rng.pick(['a', 'b']) },
        ts: T0 - Math.floor(rng.next() * 40 * DAY),
        credits: rng.pick([1, 5, 24]),
        requests: rng.int(1, 3),
        status: 200,
        operation: 'face-swap',
        sourceIp: rng.pick(['203.0.113.7', '198.51.100.1', '2001:db8::1', null]),
        userAgent: rng.pick(['curl/8', 'magic-hour-node/0.43.1', null]),
      }));
      await recordUsage(deps, events, 200);
      // A retried batch counts nothing twice.
      await recordUsage(deps, events.slice(0, 200));
      const [key] = await rows<{ id: string }>(deps.db, sql`SELECT id FROM keys WHERE name = 'a'`);
      const id = key!.id;
      const from = Math.floor(T0 / DAY) * DAY - 29 * DAY;
      expect(await ipsOf(deps.db, id, from, T0 + 1)).toEqual(await fromEvents('source_ip', id, from, T0 + 1));
      expect(await userAgentsOf(deps.db, id, from, T0 + 1)).toEqual(
        await fromEvents('user_agent', id, from, T0 + 1),
      );
      expect(await ipsOf(deps.db, id, from, T0 + 1, 2)).toHaveLength(2);
      expect((await ipsOf(deps.db, id, from, T0 + 1)).map((r) => r.value)).toContain('(not reported)');
    });
  });
});

describe("a key's callers, on SQLite", () => {
  let deps: TestDeps;
  beforeEach(() => {
    deps = createTestDeps();
  });
  afterEach(() => deps.cleanup());

  it('are read by key and day from the primary key', () => {
    const plan = (
      statement(
        deps.sqlite,
        `EXPLAIN QUERY PLAN SELECT value, sum(requests) FROM key_clients
           WHERE key_id = ? AND kind = ? AND day >= ? AND day < ? GROUP BY value`,
      ).all('k', 'ip', 0, 1) as { detail: string }[]
    )
      .map((r) => r.detail)
      .join('\n');
    expect(plan).toMatch(/SEARCH key_clients USING PRIMARY KEY \(key_id=\? AND day>\? AND day<\?\)/);
  });
});
