/**
 * Ingest throughput: recordEvents() (idempotency + three write-through bucket tables + key
 * resolution) against a baseline of raw prepared inserts into one table, in the same run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fakeClock } from '../../server/clock.ts';
import { openStore } from '../../server/db/client.ts';
import { createRng } from '../../server/simulate/random.ts';
import { recordEvents, type UsageEvent } from '../../server/usage/record-events.ts';

const EVENTS = 200_000;
const BATCH = 5_000;

function makeEvents(n: number): UsageEvent[] {
  const rng = createRng(1);
  const start = Date.UTC(2026, 10, 1);
  return Array.from({ length: n }, (_, i) => ({
    source: 'bench',
    eventId: `e${i}`,
    key: { by: 'ref', value: `key-${i % 100}` },
    ts: start + Math.floor((i / n) * 7 * 86_400_000),
    credits: rng.pick([5, 24, 120]),
    requests: 1,
    status: 200,
    operation: rng.pick(['face-swap', 'ai-image-generator', 'text-to-video']),
    sourceIp: '203.0.113.7',
    userAgent: 'magic-hour-node/0.43.1',
    projectId: null,
  }));
}

function timeIt(fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

function run(): Record<string, number> {
  const dir = mkdtempSync(join(tmpdir(), 'keywatch-bench-'));
  try {
    const events = makeEvents(EVENTS);
    const base = openStore(join(dir, 'baseline.db'));
    base.sqlite.exec(
      'CREATE TABLE raw (source TEXT, event_id TEXT, key TEXT, ts INTEGER, credits REAL, PRIMARY KEY (source, event_id))',
    );
    const insert = base.sqlite.prepare('INSERT INTO raw VALUES (?, ?, ?, ?, ?)');
    const baseline = timeIt(() => {
      for (let i = 0; i < events.length; i += BATCH) {
        base.sqlite.transaction(() => {
          for (const e of events.slice(i, i + BATCH))
            insert.run(e.source, e.eventId, (e.key as { value: string }).value, e.ts, e.credits);
        })();
      }
    });
    base.close();

    const store = openStore(join(dir, 'keywatch.db'));
    const deps = { sqlite: store.sqlite, clock: fakeClock(Date.UTC(2026, 10, 8)) };
    const ingest = timeIt(() => {
      for (let i = 0; i < events.length; i += BATCH) recordEvents(deps, events.slice(i, i + BATCH));
    });
    const replay = timeIt(() => {
      for (let i = 0; i < events.length; i += BATCH) recordEvents(deps, events.slice(i, i + BATCH));
    });
    store.close();
    const perSec = (s: number) => Math.round(EVENTS / s);
    console.log(`ingest: baseline raw insert ${perSec(baseline)} events/s`);
    console.log(
      `ingest: recordEvents        ${perSec(ingest)} events/s  (${(baseline / ingest).toFixed(2)}x baseline)`,
    );
    console.log(
      `ingest: duplicate replay    ${perSec(replay)} events/s  (${(baseline / replay).toFixed(2)}x baseline)`,
    );
    return { baselinePerSec: perSec(baseline), ingestPerSec: perSec(ingest), ratio: baseline / ingest };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
run();
