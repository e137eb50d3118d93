/**
 * The fold (SQLite): rollups written behind the raw events. A push batch commits its events, keys
 * and late usage only; the rollups (minute/hour/day/month buckets with their totals, key networks,
 * key clients) are added here for every `usage_events` row past the mark in `usage_fold`, and the
 * mark moved, in one transaction. Many batches' rows for one key then share one page write: at
 * batches of 100 a commit wrote ~550 pages, ~450 of them rollups with each key on its own page.
 *
 * Exactly once: the mark moves with the rollups it accounts for, so a crash between a batch's
 * commit and its fold leaves the events past the mark, and the next fold (any connection, any
 * process: writers are serialized by SQLite's lock) adds them once. Reads stay exact through
 * settleUsage(), a barrier before every read of the rollups. Credit corrections (webhooks,
 * finalized projects) still go straight to the buckets: sums commute, and a correction is computed
 * from the projects table, never from the buckets. PostgreSQL writes rollups with each batch.
 */
import type { Db, Sqlite } from '../db/client.ts';
import { preparedPerConnection } from '../db/statements.ts';
import { dialectOf, sqliteOf } from '../db/transaction.ts';
import { type BatchSums, type SummedEvent, startBatchSums } from './batch-sums.ts';
import { addToBuckets } from './buckets.ts';

/** Events per fold transaction: a second of push at batches of 5,000 is two of them. */
export const FOLD_CHUNK = 20_000;

type EventRow = [
  rowid: number,
  source: string,
  keyId: string,
  ts: number,
  credits: number,
  requests: number,
  status: number,
  operation: string,
  sourceIp: string | null,
  userAgent: string | null,
];

function prepare(sqlite: Sqlite) {
  return {
    mark: sqlite.prepare<[], number>('SELECT folded_until FROM usage_fold WHERE id = 1').pluck(),
    // The rowid table's last row: one seek down its right edge.
    last: sqlite.prepare<[], number>('SELECT coalesce(max(rowid), 0) FROM usage_events').pluck(),
    setMark: sqlite.prepare<[number]>('UPDATE usage_fold SET folded_until = ? WHERE id = 1'),
    events: sqlite
      .prepare<[number, number], EventRow>(
        `SELECT rowid, source, key_id, ts, credits, requests, status, operation, source_ip, user_agent
         FROM usage_events WHERE rowid > ? ORDER BY rowid LIMIT ?`,
      )
      .raw(),
    // The networks each key is seen from: the keys page's flag and the exposure signal count these.
    noteNetwork: sqlite.prepare(
      `INSERT INTO key_networks (key_id, network, first_seen_at, last_seen_at, requests) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (key_id, network) DO UPDATE SET first_seen_at = min(first_seen_at, excluded.first_seen_at),
         last_seen_at = max(last_seen_at, excluded.last_seen_at), requests = requests + excluded.requests`,
    ),
    // Who called each key per day: the key page's top IPs and agents read these, not raw events.
    noteClient: sqlite.prepare(
      `INSERT INTO key_clients (key_id, day, kind, value, requests, credits, last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (key_id, day, kind, value) DO UPDATE SET requests = requests + excluded.requests,
         credits = credits + excluded.credits, last_seen_at = max(last_seen_at, excluded.last_seen_at)`,
    ),
  };
}

const statementsFor = preparedPerConnection(prepare);

/** Adds summed events to every rollup: buckets and totals, key networks, key clients. In a transaction. */
export function writeRollups(sqlite: Sqlite, sums: BatchSums): void {
  const st = statementsFor(sqlite);
  addToBuckets(sqlite, sums.deltas);
  for (const n of sums.networks.values()) st.noteNetwork.run(n.keyId, n.network, n.first, n.last, n.requests);
  for (const c of sums.clients.values())
    st.noteClient.run(c.keyId, c.day, c.kind, c.value, c.requests, c.credits, c.last);
}

/**
 * The mark and the last event's rowid. A mark past the last rowid means the table's last rows were
 * deleted (retention) after being folded: SQLite would hand their rowids out again, to events the
 * fold must not skip, so the mark comes back to the last row. Call inside a write transaction.
 */
export function foldPosition(sqlite: Sqlite): { mark: number; last: number } {
  const st = statementsFor(sqlite);
  const last = st.last.get()!;
  let mark = st.mark.get()!;
  if (mark > last) {
    st.setMark.run(last);
    mark = last;
  }
  return { mark, last };
}

/** Everything up to `rowid` is in the rollups (a batch that wrote its own). In a write transaction. */
export function markFolded(sqlite: Sqlite, rowid: number): void {
  statementsFor(sqlite).setMark.run(rowid);
}

/** The last event's rowid: after a batch's inserts, what markFolded takes. */
export function lastEventRowid(sqlite: Sqlite): number {
  return statementsFor(sqlite).last.get()!;
}

/**
 * Folds up to `limit` events past the mark into the rollups and moves the mark over them; how many
 * it folded (0: nothing was pending). Call inside a write transaction.
 */
export function foldUsage(sqlite: Sqlite, limit = FOLD_CHUNK): number {
  const st = statementsFor(sqlite);
  const { mark, last } = foldPosition(sqlite);
  if (mark >= last) return 0;
  const found = st.events.all(mark, limit);
  if (found.length === 0) return 0;
  const sums = startBatchSums(null);
  // One object refilled per row: the sums keep numbers and strings, never the event itself.
  const e: SummedEvent = {
    source: '',
    ts: 0,
    credits: 0,
    requests: 0,
    status: 0,
    operation: '',
    sourceIp: null,
    userAgent: null,
  };
  for (const r of found) {
    e.source = r[1];
    e.ts = r[3];
    e.credits = r[4];
    e.requests = r[5];
    e.status = r[6];
    e.operation = r[7];
    e.sourceIp = r[8];
    e.userAgent = r[9];
    sums.add(r[2], e);
  }
  writeRollups(sqlite, sums);
  st.setMark.run(found[found.length - 1]![0]);
  return found.length;
}

/** Whether events wait for the fold: two lookups, for a barrier's fast path. */
export function usagePending(sqlite: Sqlite): boolean {
  const st = statementsFor(sqlite);
  return st.mark.get()! < st.last.get()!;
}

/**
 * Folds whatever is pending in transactions of FOLD_CHUNK events, waiting for the write lock as
 * the connection is set to (a worker thread's flusher). How many events it folded.
 */
export function foldAllUsage(sqlite: Sqlite): number {
  // The flusher's usual round on an idle server: two lookups, no write lock taken.
  if (!usagePending(sqlite)) return 0;
  // Inside a transaction already, better-sqlite3 runs this as a savepoint of it.
  const once = sqlite.transaction(() => foldUsage(sqlite));
  for (let total = 0; ; ) {
    const n = once.immediate();
    total += n;
    if (n < FOLD_CHUNK) return total;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The read barrier: returns once every event stored before the call is in the rollups, so a read
 * that follows sees every acknowledged write. On PostgreSQL (rollups written with each batch) and
 * when nothing is pending it costs nothing but two index lookups. Never waits on the write lock
 * synchronously (the serving thread calls it): a busy database is tried again a few ms later,
 * meanwhile the flusher or another reader may fold what it waits for.
 */
export async function settleUsage(db: Db): Promise<void> {
  if (dialectOf(db) !== 'sqlite') return;
  const sqlite = sqliteOf(db);
  const st = statementsFor(sqlite);
  const target = st.last.get()!;
  for (let wait = 1; st.mark.get()! < target; wait = Math.min(wait * 2, 16)) {
    if (!tryFold(sqlite)) await sleep(wait);
  }
}

/** One fold transaction if the write lock is free now; false when another connection holds it. */
function tryFold(sqlite: Sqlite): boolean {
  // Inside a transaction of this connection (retention's delete): it holds the lock already.
  if (sqlite.inTransaction) {
    foldUsage(sqlite);
    return true;
  }
  const wait = sqlite.pragma('busy_timeout', { simple: true }) as number;
  sqlite.pragma('busy_timeout = 0');
  try {
    sqlite.prepare('BEGIN IMMEDIATE').run();
  } catch (e) {
    if ((e as { code?: string }).code === 'SQLITE_BUSY') return false;
    throw e;
  } finally {
    sqlite.pragma(`busy_timeout = ${wait}`);
  }
  try {
    foldUsage(sqlite);
    sqlite.prepare('COMMIT').run();
    return true;
  } catch (e) {
    if (sqlite.inTransaction) sqlite.prepare('ROLLBACK').run();
    throw e;
  }
}
