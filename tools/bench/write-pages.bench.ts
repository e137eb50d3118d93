/**
 * Where a small ingest batch's cost goes: the database pages one recordEvents() batch changes, by
 * table and index. A commit writes every changed page whole (4 KB) to the write-ahead log, and a
 * checkpoint copies it back, so at small batches the pages changed, not the rows, set the cost.
 * Tables clustered by key first (the bucket tables, the per-key event index) change about one page
 * per distinct key in the batch; time-ordered ones (raw events, totals) one or two at their end.
 *
 *   npm run bench write-pages                   # batches of 100 over 200 keys, as `bench ingest`
 *   npm run bench write-pages -- --batch 5000
 *   npm run bench write-pages -- --defer        # as the push worker: rollups left to the fold,
 *                                               # then one fold of all the batches measured
 *
 * Method: the file is checkpointed before and after each batch and compared page by page; each
 * changed page is named through dbstat. Deterministic (no timing); the same batches into `bench
 * ingest`'s bare ceiling give its page count beside Keywatch's.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DAY, fakeClock } from '../../server/clock.ts';
import { openStore, type Sqlite } from '../../server/db/client.ts';
import { foldAllUsage } from '../../server/usage/fold-usage.ts';
import { recordEvents, type UsageEvent } from '../../server/usage/record-events.ts';

const { values: args } = parseArgs({
  options: {
    batch: { type: 'string', default: '100' },
    batches: { type: 'string', default: '20' },
    defer: { type: 'boolean', default: false },
  },
});
const DEFER = args.defer ?? false;
const BATCH = Number(args.batch);
const BATCHES = Number(args.batches);
/** The traffic of `bench ingest`: 200 keys, three operations, a week, a handful of networks. */
const KEYS = 200;
const EVENTS = 200_000;
const START = Date.UTC(2026, 10, 1);
const OPERATIONS = ['face-swap', 'ai-image-generator', 'text-to-video'];
const PAGE = 4096;

const eventOf = (i: number): UsageEvent => ({
  source: 'push',
  eventId: `e${i}`,
  key: { by: 'ref', value: `key-${i % KEYS}` },
  ts: START + Math.floor((i / EVENTS) * 7 * DAY),
  credits: [5, 24, 120][i % 3]!,
  requests: 1,
  status: i % 50 === 0 ? 429 : 200,
  operation: OPERATIONS[i % OPERATIONS.length]!,
  sourceIp: `203.0.${113 + (i % 4)}.${i % 200}`,
  userAgent: 'magic-hour-node/0.43.1',
});

/**
 * Pages each batch changes in the file at `path`, by table or index name, summed over the batches.
 * `write(b)` stores batch b; the file is checkpointed before and after and compared page by page.
 */
function changedPages(
  path: string,
  sqlite: Sqlite,
  write: (b: number) => void,
  times = BATCHES,
): Map<string, number> {
  const snapshot = () => {
    sqlite.pragma('wal_checkpoint(TRUNCATE)');
    return readFileSync(path);
  };
  const changed = new Map<string, number>();
  for (let b = 0; b < times; b++) {
    const before = snapshot();
    write(b);
    const after = snapshot();
    const names = new Map(
      (sqlite.prepare('SELECT pageno, name FROM dbstat').all() as { pageno: number; name: string }[]).map(
        (r) => [r.pageno, r.name],
      ),
    );
    for (let p = 0; p * PAGE < after.length; p++) {
      const page = after.subarray(p * PAGE, (p + 1) * PAGE);
      if (page.equals(before.subarray(p * PAGE, (p + 1) * PAGE))) continue;
      // Page 1 is the header; pages dbstat does not list are free-list and pointer-map pages.
      const name = names.get(p + 1) ?? (p === 0 ? '(file header)' : '(free list, pointer map)');
      changed.set(name, (changed.get(name) ?? 0) + 1);
    }
  }
  return changed;
}

/**
 * The same batches into `bench ingest`'s bare ceiling: one event table with a unique id and one
 * minute table keyed (key, minute), one transaction per batch.
 */
function bareChangedPages(dir: string, warm: number): Map<string, number> {
  const path = join(dir, 'bare.db');
  const store = openStore(path, { migrate: false });
  try {
    const { sqlite } = store;
    sqlite.exec(`CREATE TABLE events (id TEXT PRIMARY KEY, key TEXT, ts INTEGER, credits REAL);
      CREATE TABLE minute (key TEXT, bucket INTEGER, credits REAL, requests INTEGER, PRIMARY KEY (key, bucket)) WITHOUT ROWID;`);
    const insert = sqlite.prepare('INSERT INTO events VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING');
    const upsert = sqlite.prepare(
      `INSERT INTO minute VALUES (?, ?, ?, 1) ON CONFLICT (key, bucket) DO UPDATE SET
         credits = credits + excluded.credits, requests = requests + 1`,
    );
    const write = sqlite.transaction((events: UsageEvent[]) => {
      for (const e of events) {
        const key = e.key.by === 'ref' ? e.key.value : e.key.fingerprint;
        if (insert.run(e.eventId, key, e.ts, e.credits).changes === 0) continue;
        upsert.run(key, Math.floor(e.ts / 60_000) * 60_000, e.credits);
      }
    });
    for (let i = 0; i < warm; i += 5000) write(Array.from({ length: 5000 }, (_, j) => eventOf(i + j)));
    return changedPages(path, sqlite, (b) =>
      write(Array.from({ length: BATCH }, (_, j) => eventOf(warm + b * BATCH + j))),
    );
  } finally {
    store.close();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'keywatch-write-pages-'));
const path = join(dir, 'k.db');
const store = openStore(path);
try {
  const deps = { sqlite: store.sqlite, clock: fakeClock(START + 8 * DAY) };
  // Half the week first, in big batches: the tables have the depth of a used install.
  const warm = EVENTS / 2;
  for (let i = 0; i < warm; i += 5000) {
    recordEvents(
      deps,
      Array.from({ length: 5000 }, (_, j) => eventOf(i + j)),
    );
  }
  const changed = changedPages(path, store.sqlite, (b) => {
    recordEvents(
      deps,
      Array.from({ length: BATCH }, (_, j) => eventOf(warm + b * BATCH + j)),
      { deferRollups: DEFER },
    );
  });
  // The fold of every measured batch at once, as the push worker's timer does, shared among them.
  if (DEFER) {
    const fold = changedPages(path, store.sqlite, () => foldAllUsage(store.sqlite), 1);
    for (const [name, n] of fold) changed.set(`fold: ${name}`, (changed.get(`fold: ${name}`) ?? 0) + n);
  }
  const rows = [...changed].sort((a, b) => b[1] - a[1]);
  const total = rows.reduce((s, [, n]) => s + n, 0) / BATCHES;
  const bare = [...bareChangedPages(dir, warm).values()].reduce((s, n) => s + n, 0) / BATCHES;
  process.stdout.write(
    `pages changed per batch of ${BATCH.toLocaleString('en')} events${DEFER ? ', its share of the fold included' : ''} (${KEYS} keys; mean of ${BATCHES} batches): ` +
      `${total.toFixed(0)} (${((total * PAGE) / 1e6).toFixed(2)} MB written to the WAL per commit); ` +
      `bench ingest's bare ceiling: ${bare.toFixed(0)} (${(bare / total).toFixed(2)}x)\n` +
      '| table or index | pages per batch | share |\n|---|---|---|\n',
  );
  for (const [name, n] of rows) {
    process.stdout.write(
      `| ${name} | ${(n / BATCHES).toFixed(1)} | ${((100 * n) / BATCHES / total).toFixed(0)}% |\n`,
    );
  }
} finally {
  store.close();
  rmSync(dir, { recursive: true, force: true });
}
