/**
 * Replaying history with `detect run` in one go gives exactly the incidents that running it
 * minute by minute (as the scheduled job does) gives, and the same as feeding the buckets straight
 * into the pure detectors.
 */
import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { HOUR, MINUTE } from '../../server/clock.ts';
import { rows } from '../../server/db/transaction.ts';
import { createEpisodeBook, keySubject } from '../../server/detection/core/episodes.ts';
import { defaultRuleSet } from '../../server/detection/core/params.ts';
import { createKeyState } from '../../server/detection/core/state.ts';
import { stepKey } from '../../server/detection/core/step.ts';
import { loadChunk } from '../../server/detection/load-chunk.ts';
import { runDetection } from '../../server/detection/run-detection.ts';
import { END, SPIKE, START, seedHistory as seed } from '../helpers/history.ts';
import { forEachStore, type TestDeps } from '../helpers/store.ts';

const snapshot = (deps: TestDeps) =>
  rows<Record<string, unknown>>(
    deps.db,
    sql`SELECT k.name AS key, i.kind, i.severity, i.state, i.started_at, i.last_seen_at, i.resolved_at, i.observed,
         i.expected, i.score, i.impact_credits, i.summary, i.details
       FROM incidents i LEFT JOIN keys k ON k.id = i.key_id ORDER BY i.started_at, i.kind, k.name`,
  );

describe('detect run replay', () =>
  forEachStore((_kind, open) => {
    const made: TestDeps[] = [];
    afterEach(() => {
      for (const d of made.splice(0)) d.cleanup();
    });
    const fresh = async () => {
      const d = await open();
      made.push(d);
      await seed(d);
      return d;
    };

    it('one run equals many small runs equals the pure detectors fed bucket by bucket', async () => {
      const once = await fresh();
      const r = await runDetection(once, { until: END });
      expect(r.evaluated_until).toBe(END);
      const expected = await snapshot(once);
      expect(expected.length).toBeGreaterThan(0);
      expect(expected.some((i) => (i as { kind: string }).kind === 'credit_spike')).toBe(true);

      const stepwise = await fresh();
      // Hourly runs up to the spike, then minute by minute through it, as the live job would.
      for (let t = START + HOUR; t <= SPIKE; t += HOUR) await runDetection(stepwise, { until: t });
      let opened = 0;
      for (let t = SPIKE + MINUTE; t <= END; t += t < SPIKE + 3 * HOUR ? MINUTE : HOUR)
        opened += (await runDetection(stepwise, { until: t })).incidents_opened;
      await runDetection(stepwise, { until: END });
      expect(await snapshot(stepwise)).toEqual(expected);
      expect(opened).toBeGreaterThan(0);

      // The pure path: the same buckets straight through stepKey and the episode book.
      const chunk = await loadChunk(once.db, START, END);
      const rules = defaultRuleSet();
      const book = createEpisodeBook([]);
      const started: string[] = [];
      for (const key of chunk.keys) {
        const state = createKeyState(MINUTE);
        let seen = false;
        for (let t = START; t < END; t += MINUTE) {
          const b = chunk.buckets.get(t)?.get(key.id);
          if (!b && !seen) continue;
          seen = true;
          for (const f of stepKey(state, b ?? { ts: t, requests: 0, credits: 0, authFailures: 0, ops: [] }, {
            status: key.status,
            revokedAt: key.revokedAt,
            rules,
            factor: () => 1,
          })) {
            const change = book.apply({ subject: keySubject(key.id), keyId: key.id }, f, rules.params);
            if (change.type === 'opened') started.push(`${key.id} ${f.kind} ${f.at}`);
          }
          book.due(t + MINUTE, () => rules.params.baseline.quiet_minutes * MINUTE);
        }
      }
      const names = new Map(chunk.keys.map((k) => [k.id, k.name]));
      const fromDb = (expected as { key: string; kind: string; started_at: number }[]).map(
        (i) => `${i.key} ${i.kind} ${i.started_at}`,
      );
      started.splice(
        0,
        started.length,
        ...started.map((s) => s.replace(/^\S+/, (id) => names.get(id) ?? id)),
      );
      expect(started.sort()).toEqual(fromDb.sort());
      // About 1,200 runs; 20 s on an idle machine already, and this one is shared.
    }, 120_000);

    it('a second run with nothing new evaluates nothing and opens nothing', async () => {
      const d = await fresh();
      await runDetection(d, { until: END });
      const before = await snapshot(d);
      expect(await runDetection(d, { until: END })).toEqual({ evaluated_until: END, incidents_opened: 0 });
      expect(await snapshot(d)).toEqual(before);
    });
  }));
