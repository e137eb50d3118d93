/**
 * The key page's top source IPs and user agents come from the per-day rollup kept on write: the
 * same answers as summing the raw events of those days, batch after batch, nulls included.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DAY } from '../../server/clock.ts';
import { statement } from '../../server/db/statements.ts';
import { createRng } from '../../server/simulate/random.ts';
import { recordEvents, type UsageEvent } from '../../server/usage/record-events.ts';
import { ipsOf, userAgentsOf } from '../../web/queries/key-activity.ts';
import { createTestDeps, T0, type TestDeps } from '../helpers/store.ts';

let deps: TestDeps;
beforeEach(() => {
  deps = createTestDeps();
});
afterEach(() => deps.cleanup());

/** What the page showed before the rollup: the raw events summed, biggest first. */
function fromEvents(column: 'source_ip' | 'user_agent', keyId: string, from: number, to: number) {
  return deps.sqlite
    .prepare(
      `SELECT coalesce(${column}, '(not reported)') AS value, sum(requests) AS requests,
         sum(credits) AS credits, max(ts) AS last_seen
       FROM usage_events WHERE key_id = ? AND ts >= ? AND ts < ? GROUP BY 1 ORDER BY requests DESC, value`,
    )
    .all(keyId, from, to);
}

describe("a key's callers", () => {
  it('are the raw events of the same days summed, for IPs and agents', () => {
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
    for (let i = 0; i < events.length; i += 200) recordEvents(deps, events.slice(i, i + 200));
    // A retried batch counts nothing twice.
    recordEvents(deps, events.slice(0, 200));
    const id = statement<[string], string>(deps.sqlite, 'SELECT id FROM keys WHERE name = ?')
      .pluck()
      .get('a')!;
    const from = Math.floor(T0 / DAY) * DAY - 29 * DAY;
    expect(ipsOf(deps.sqlite, id, from, T0 + 1)).toEqual(fromEvents('source_ip', id, from, T0 + 1));
    expect(userAgentsOf(deps.sqlite, id, from, T0 + 1)).toEqual(fromEvents('user_agent', id, from, T0 + 1));
    expect(ipsOf(deps.sqlite, id, from, T0 + 1, 2)).toHaveLength(2);
    expect(ipsOf(deps.sqlite, id, from, T0 + 1).map((r) => r.value)).toContain('(not reported)');
  });

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
