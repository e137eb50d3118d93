import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DAY } from '../../server/clock.ts';
import { applyRetention } from '../../server/jobs/retention.ts';
import { recordEvents } from '../../server/usage/record-events.ts';
import { createTestDeps, T0, type TestDeps } from '../helpers/store.ts';

let deps: TestDeps;
beforeEach(() => {
  deps = createTestDeps({
    KEYWATCH_RETENTION_MINUTE_DAYS: '30',
    KEYWATCH_RETENTION_EVENT_DAYS: '30',
    KEYWATCH_RETENTION_HOUR_DAYS: '60',
  });
});
afterEach(() => deps.cleanup());

const count = (table: string) =>
  (deps.sqlite.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;

describe('retention', () => {
  it('drops old minute rows and events, keeps hourly longer and daily forever', () => {
    const ages = [1, 10, 45, 90, 400];
    recordEvents(
      deps,
      ages.map((age, i) => ({
        source: 'test',
        eventId: `e${i}`,
        key: { by: 'ref' as const, value: 'k' },
        ts: T0 - age * DAY,
        credits: 10,
        requests: 1,
        status: 200,
        operation: 'face-swap',
      })),
    );
    expect(applyRetention(deps)).toEqual({
      usage_minute: 3,
      usage_minute_total: 3,
      usage_events: 3,
      key_networks: 0,
      // Each old day had one IP row and one agent row ('' when not reported).
      key_clients: 6,
      usage_hour: 2,
      usage_hour_total: 2,
    });
    expect(count('usage_minute')).toBe(2);
    expect(count('usage_events')).toBe(2);
    expect(count('key_clients')).toBe(4);
    expect(count('usage_hour')).toBe(3);
    expect(count('usage_day')).toBe(5);
    expect(Object.values(applyRetention(deps)).every((n) => n === 0)).toBe(true);
  });

  it('hands the freed pages back to the disk: the file shrinks after a big delete', () => {
    expect(deps.sqlite.pragma('auto_vacuum', { simple: true })).toBe(2);
    const events = Array.from({ length: 20_000 }, (_, i) => ({
      source: 'test',
      eventId: `old${i}`,
      key: { by: 'ref' as const, value: `k${i % 50}` },
      ts: T0 - 40 * DAY + i * 1000,
      credits: 1,
      requests: 1,
      status: 200,
      operation: 'face-swap',
      userAgent: `agent-${i}`.padEnd(200, 'x'),
    }));
    recordEvents(deps, events);
    const pages = () => deps.sqlite.pragma('page_count', { simple: true }) as number;
    const before = pages();
    applyRetention(deps);
    expect(deps.sqlite.pragma('freelist_count', { simple: true })).toBe(0);
    expect(pages()).toBeLessThan(before / 2);
  });
});
