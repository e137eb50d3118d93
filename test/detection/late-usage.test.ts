/** Late usage is judged: rewound to a checkpoint, replayed causally, raised once, saying how late. */
import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DAY, HOUR, MINUTE } from '../../server/clock.ts';
import { rows } from '../../server/db/transaction.ts';
import { readCursor, runDetection } from '../../server/detection/run-detection.ts';
import { createKey } from '../../server/keys/keys.ts';
import type { UsageEvent } from '../../server/usage/record-events.ts';
import { recordUsage } from '../helpers/history.ts';
import { forEachStore, type TestDeps } from '../helpers/store.ts';
import { pushedEvent } from '../helpers/usage.ts';

let deps: TestDeps;
const START = Date.UTC(2026, 10, 10);

const use = (key: string, id: string, ts: number, credits: number, source = 'push') =>
  pushedEvent(key, id, ts, credits, {
    source,
    operation: 'ai-image-generator',
    sourceIp: '198.51.100.10',
    userAgent: 'magic-hour-node/0.43.1',
  });

/** Ten days of 5 credits every other minute, 08:00–20:00 UTC. */
function history(key: string, until: number): UsageEvent[] {
  const out: UsageEvent[] = [];
  for (let day = START; day < until; day += DAY) {
    for (let t = day + 8 * HOUR; t < Math.min(until, day + 20 * HOUR); t += 2 * MINUTE) {
      out.push(use(key, `h-${key}-${t}`, t, 5));
    }
  }
  return out;
}

/** Detection up to `to` with the clock there (chunks of hours, checkpoints at day ends), then live steps. */
async function live(from: number, to: number) {
  deps.clock.set(Math.max(from, to - 30 * MINUTE));
  await runDetection(deps, { until: deps.clock.now() });
  for (let t = deps.clock.now() + 10 * MINUTE; t <= to; t += 10 * MINUTE) {
    deps.clock.set(t);
    await runDetection(deps, { until: t });
  }
}

const incidents = () =>
  rows<{
    id: string;
    key_id: string | null;
    summary: string;
    details: string;
    started_at: number;
    state: string;
  }>(
    deps.db,
    sql`SELECT id, key_id, summary, details, started_at, state FROM incidents ORDER BY started_at, id`,
  );
const lateKeys = () => rows<{ key_id: string }>(deps.db, sql`SELECT key_id FROM late_usage`);

describe('late usage', () =>
  forEachStore((_kind, open) => {
    beforeEach(async () => {
      deps = await open();
      await createKey({ ...deps, secret: deps.config.secret }, { name: 'app' }, 'test');
    });
    afterEach(() => deps.cleanup());

    it('judges a burst that arrives three hours late, once, and says how late', async () => {
      const now = START + 10 * DAY + 17 * HOUR;
      await recordUsage(deps, history('app', now));
      await live(START + DAY, now);
      expect(await readCursor(deps)).toBe(now);
      const before = (await incidents()).length;

      // A gateway queue drains after an outage: 5,000 credits stamped 14:00–14:10, three hours ago.
      const burst = Array.from({ length: 10 }, (_, i) =>
        use('app', `late-${i}`, now - 3 * HOUR + i * MINUTE, 500),
      );
      await recordUsage(deps, burst);
      expect(await lateKeys()).toHaveLength(1);
      deps.clock.set(now + MINUTE);
      await runDetection(deps, { until: now + MINUTE });

      const found = (await incidents()).slice(before);
      expect(found).toHaveLength(1);
      expect(found[0]!.started_at).toBeGreaterThanOrEqual(now - 3 * HOUR - MINUTE);
      expect(found[0]!.started_at).toBeLessThan(now - 3 * HOUR + 10 * MINUTE);
      expect(found[0]!.summary).toMatch(/arrived (2|3) h late/);
      expect(JSON.parse(found[0]!.details).late.late_by_minutes).toBeGreaterThan(100);
      expect(await lateKeys()).toHaveLength(0);
      // The cursor never moved back, and judging again raises nothing new.
      expect(await readCursor(deps)).toBe(now + MINUTE);
      await live(now + 10 * MINUTE, now + HOUR);
      expect((await incidents()).length).toBe(before + 1);
    });

    it('judges late usage on a key no one has seen before', async () => {
      const now = START + 2 * DAY;
      await recordUsage(deps, history('app', now));
      await live(START + DAY, now);
      await recordUsage(deps, [
        {
          ...use('unused', 'x1', now - 10 * MINUTE, 2_500),
          key: { by: 'fingerprint', fingerprint: `sha256:${'ab'.repeat(32)}`, last4: 'wxyz' },
        },
        {
          ...use('unused', 'x2', now - 9 * MINUTE, 2_500),
          key: { by: 'fingerprint', fingerprint: `sha256:${'ab'.repeat(32)}`, last4: 'wxyz' },
        },
      ]);
      deps.clock.set(now + MINUTE);
      await runDetection(deps, { until: now + MINUTE });
      const discovered = (await incidents()).filter((i) => i.summary.includes('not registered'));
      expect(discovered).toHaveLength(1);
      expect(discovered[0]!.summary).toMatch(/arrived \d+ min late/);
    });

    it('learns imported history without alerting on it', async () => {
      const now = START + 10 * DAY + 17 * HOUR;
      await recordUsage(deps, history('app', now));
      await live(START + DAY, now);
      const before = (await incidents()).length;
      const imported = Array.from({ length: 10 }, (_, i) =>
        use('app', `csv-${i}`, now - 3 * HOUR + i * MINUTE, 500, 'csv'),
      );
      await recordUsage(deps, imported);
      deps.clock.set(now + MINUTE);
      await runDetection(deps, { until: now + MINUTE });
      expect((await incidents()).length).toBe(before);
    });
  }));
