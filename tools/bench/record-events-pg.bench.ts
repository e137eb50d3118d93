/**
 * `npm run bench record-events-pg [-- --events N]`: events/s of the PostgreSQL recorder against
 * SQLite's recordEvents on the same batches, in one run (a fresh database each): 200 registered
 * keys, a week of traffic, a few client networks, batches of 100 and of 5,000. PostgreSQL runs in a
 * throwaway local cluster (test/helpers/postgres.ts), over TCP on 127.0.0.1; SQLite is a file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DAY, fakeClock } from '../../server/clock.ts';
import { openStore } from '../../server/db/client.ts';
import { openPgStore } from '../../server/db/pg/client.ts';
import type { UsageEvent } from '../../server/usage/record-events.ts';
import { pgUsageRecorder } from '../../server/usage/record-events-pg.ts';
import { sqliteUsageRecorder, type UsageRecorder } from '../../server/usage/recorder.ts';
import { postgresAvailable, startPgCluster } from '../../test/helpers/postgres.ts';

const { values } = parseArgs({ options: { events: { type: 'string', default: '100000' } } });
const EVENTS = Number(values.events);
const KEYS = 200;
const NOW = Date.UTC(2026, 11, 1);
const OPERATIONS = ['face-swap', 'ai-image-generator', 'text-to-video'];
if (!postgresAvailable()) process.exit(1);

const events: UsageEvent[] = Array.from({ length: EVENTS }, (_, i) => ({
  source: 'push',
  eventId: `e${i}`,
  key: { by: 'ref', value: `key-${i % KEYS}` },
  ts: NOW - 7 * DAY + Math.floor((i / EVENTS) * 7 * DAY),
  credits: [5, 24, 120][i % 3]!,
  requests: 1,
  status: i % 50 === 0 ? 429 : 200,
  operation: OPERATIONS[i % 3]!,
  sourceIp: `198.51.100.${i % 7}`,
  userAgent: i % 2 ? 'node' : 'curl/8.5',
}));
const KEY_SQL = `INSERT INTO keys (id, name, provider, status, created_at, updated_at) VALUES (?, ?, 'magichour', 'active', ?, ?)`;

async function measure(recorder: UsageRecorder, batch: number): Promise<number> {
  const t = performance.now();
  for (let i = 0; i < events.length; i += batch) {
    const r = await recorder.record(events.slice(i, i + batch));
    if (r.duplicates !== 0) throw new Error('bench batches must all be new');
  }
  return events.length / ((performance.now() - t) / 1000);
}

const dir = mkdtempSync(join(tmpdir(), 'keywatch-bench-record-'));
const cluster = await startPgCluster();
try {
  for (const batch of [100, 5_000]) {
    const sqlite = openStore(join(dir, `b${batch}.db`), { progress: () => {} });
    const insert = sqlite.sqlite.prepare(KEY_SQL);
    for (let k = 0; k < KEYS; k++) insert.run(`key-${k}`, `key-${k}`, NOW, NOW);
    const liteRate = await measure(
      sqliteUsageRecorder({ sqlite: sqlite.sqlite, clock: fakeClock(NOW) }),
      batch,
    );
    sqlite.close();

    const pg = await openPgStore(await cluster.createDatabase(), { max: 2 });
    for (let k = 0; k < KEYS; k++)
      await pg.pool.query(
        `INSERT INTO keys (id, name, provider, status, created_at, updated_at) VALUES ($1, $2, 'magichour', 'active', $3, $4)`,
        [`key-${k}`, `key-${k}`, NOW, NOW],
      );
    const pgRate = await measure(pgUsageRecorder({ pool: pg.pool, clock: fakeClock(NOW) }), batch);
    await pg.close();
    console.log(
      `batches of ${batch}: SQLite ${Math.round(liteRate)} events/s, PostgreSQL ${Math.round(pgRate)} events/s (${(pgRate / liteRate).toFixed(2)}x SQLite)`,
    );
  }
} finally {
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
}
