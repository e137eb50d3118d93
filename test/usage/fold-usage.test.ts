/**
 * The fold (server/usage/fold-usage.ts) on a real SQLite file: batches that defer their rollups
 * end with the same rollup tables as write-through batches, exactly once, whoever folds and
 * whatever happened in between (a kill -9 after the commit, retention, credit corrections).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { DAY } from '../../server/clock.ts';
import { applyRetention } from '../../server/jobs/retention.ts';
import { foldAllUsage, settleUsage, usagePending } from '../../server/usage/fold-usage.ts';
import { finalizeProject } from '../../server/usage/projects.ts';
import { recordEvents, type UsageEvent } from '../../server/usage/record-events.ts';
import { createTestApi } from '../helpers/api.ts';
import { createTestDeps, T0, type TestDeps } from '../helpers/store.ts';
import { foldedUsage, pushedEvent } from '../helpers/usage.ts';

const CHILD = fileURLToPath(new URL('../helpers/fold-child.ts', import.meta.url));

/** Every table the fold writes, each sorted on its whole row. */
const ROLLUPS = [
  'usage_minute',
  'usage_hour',
  'usage_day',
  'usage_month',
  'usage_minute_total',
  'usage_hour_total',
  'usage_day_total',
  'usage_key_day',
  'usage_key_month',
  'usage_operation_day',
  'key_networks',
  'key_clients',
];

const opened: TestDeps[] = [];
const open = () => {
  const deps = createTestDeps();
  opened.push(deps);
  return deps;
};
afterEach(() => {
  for (const d of opened.splice(0)) d.cleanup();
});

/** The rollups as they stand, read straight from the tables (no barrier), key ids by key name. */
function rollups(deps: TestDeps): Record<string, unknown[]> {
  const names = new Map(
    (deps.sqlite.prepare('SELECT id, name FROM keys').all() as { id: string; name: string }[]).map((k) => [
      k.id,
      k.name,
    ]),
  );
  const out: Record<string, unknown[]> = {};
  for (const table of ROLLUPS) {
    out[table] = (deps.sqlite.prepare(`SELECT * FROM ${table}`).all() as Record<string, unknown>[])
      .map((r) => JSON.stringify({ ...r, ...('key_id' in r && { key_id: names.get(r.key_id as string) }) }))
      .sort();
  }
  return out;
}

const minuteCredits = (deps: TestDeps) =>
  (deps.sqlite.prepare('SELECT coalesce(sum(credits), 0) AS c FROM usage_minute').get() as { c: number }).c;
const dayCredits = (deps: TestDeps) =>
  (deps.sqlite.prepare('SELECT coalesce(sum(credits), 0) AS c FROM usage_day').get() as { c: number }).c;

const record = (deps: TestDeps, events: UsageEvent[], deferRollups: boolean) =>
  recordEvents(deps, events, { deferRollups });

function runChild(args: string[]): Promise<{ out: string; signal: NodeJS.Signals | null }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.on('data', (b) => {
    out += b;
  });
  return new Promise((resolve) => child.on('exit', (_code, signal) => resolve({ out, signal })));
}

describe('the fold', () => {
  it('leaves the rollups of a deferred batch to the fold, and folds to what write-through writes', () => {
    const deferred = open();
    const through = open();
    const events = foldedUsage(900);
    // Deferred and write-through batches interleaved: a write-through batch folds what waits first.
    record(deferred, events.slice(0, 300), true);
    expect(minuteCredits(deferred)).toBe(0);
    expect(usagePending(deferred.sqlite)).toBe(true);
    record(deferred, events.slice(300, 400), false);
    expect(usagePending(deferred.sqlite)).toBe(false);
    record(deferred, events.slice(400, 900), true);
    // Duplicates of folded and of pending events change nothing.
    record(deferred, events.slice(250, 450), true);
    expect(foldAllUsage(deferred.sqlite)).toBe(500);
    expect(foldAllUsage(deferred.sqlite)).toBe(0);
    for (let i = 0; i < 900; i += 100) record(through, events.slice(i, i + 100), false);
    expect(rollups(deferred)).toEqual(rollups(through));
    expect(minuteCredits(deferred)).toBe(events.reduce((s, e) => s + e.credits, 0));
  });

  it('folds a batch killed after its commit exactly once, whichever processes fold next', async () => {
    const deps = open();
    deps.sqlite.pragma('wal_checkpoint(TRUNCATE)');
    const died = await runChild(['record', deps.dbPath, '600']);
    expect(died.signal).toBe('SIGKILL');
    expect((deps.sqlite.prepare('SELECT count(*) AS n FROM usage_events').get() as { n: number }).n).toBe(
      600,
    );
    expect(minuteCredits(deps)).toBe(0);
    // Two other processes and this one fold at once: SQLite's write lock lets one fold each event.
    const [a, b] = await Promise.all([
      runChild(['fold', deps.dbPath]),
      runChild(['fold', deps.dbPath]),
      settleUsage(deps.db),
    ]);
    const mine = 600 - Number(a.out) - Number(b.out);
    expect(mine).toBeGreaterThanOrEqual(0);
    expect(usagePending(deps.sqlite)).toBe(false);
    const through = open();
    record(through, foldedUsage(600), false);
    expect(rollups(deps)).toEqual(rollups(through));
  });

  it('retention folds pending events before deleting them, and folds events that reuse their rowids', async () => {
    const deps = open();
    const old = foldedUsage(200).map((e) => ({ ...e, ts: e.ts - 120 * DAY }));
    record(deps, old, true);
    const deleted = await applyRetention(deps);
    expect(deleted.usage_events).toBe(200);
    // Their days stay (daily rollups are kept for good) though the events are gone.
    expect(dayCredits(deps)).toBe(old.reduce((s, e) => s + e.credits, 0));
    // The emptied table hands rowid 1 out again: the new batch is pending, then folded.
    const fresh = foldedUsage(50, 1_000);
    record(deps, fresh, true);
    expect(usagePending(deps.sqlite)).toBe(true);
    await settleUsage(deps.db);
    expect(minuteCredits(deps)).toBe(fresh.reduce((s, e) => s + e.credits, 0));
    expect(dayCredits(deps)).toBe([...old, ...fresh].reduce((s, e) => s + e.credits, 0));
  });

  it('keeps a final-credits correction whether it lands before or after the fold', () => {
    const deps = open();
    const ts = T0 - 10 * 60_000;
    record(
      deps,
      [
        pushedEvent('prod-web', 'p-before', ts, 10, { projectId: 'before' }),
        pushedEvent('prod-web', 'p-after', ts, 20, { projectId: 'after' }),
      ],
      true,
    );
    const correct = (projectId: string, finalCredits: number) =>
      deps.sqlite
        .transaction(() =>
          finalizeProject(deps.sqlite, { projectId, finalCredits, status: 'complete', now: T0 }),
        )
        .immediate();
    // The webhook's correction reaches the buckets before the events it corrects.
    expect(correct('before', 40)).toBe(30);
    expect(minuteCredits(deps)).toBe(30);
    foldAllUsage(deps.sqlite);
    expect(minuteCredits(deps)).toBe(40 + 20);
    expect(correct('after', 5)).toBe(-15);
    // Again: idempotent, and neither fold nor correction counted twice.
    expect(correct('after', 5)).toBe(0);
    expect(foldAllUsage(deps.sqlite)).toBe(0);
    expect(minuteCredits(deps)).toBe(40 + 5);
    expect(dayCredits(deps)).toBe(40 + 5);
  });

  it('answers a read over HTTP with every batch pushed before it (the push worker defers)', async () => {
    const deps = open();
    const api = createTestApi(deps);
    const [ingest, read] = [await api.tokenFor('ingest'), await api.tokenFor('read')];
    let pushed = 0;
    for (let round = 0; round < 5; round++) {
      const events = Array.from({ length: 40 }, (_, i) => ({
        id: `r${round}-${i}`,
        key: 'prod-web',
        ts: new Date(T0 - 3_600_000 + i * 60_000).toISOString(),
        credits: 1 + round,
        operation: 'face-swap',
      }));
      const res = await api.call('POST', '/api/v1/usage', ingest, { events });
      expect(res.json).toEqual({ accepted: 40, duplicates: 0 });
      pushed += 40 * (1 + round);
      const usage = await api.call(
        'GET',
        `/api/v1/usage?step=minute&from=${T0 - 2 * 3_600_000}&to=${T0}`,
        read,
      );
      expect(usage.status).toBe(200);
      expect(usage.json.points.reduce((s: number, p: { credits: number }) => s + p.credits, 0)).toBe(pushed);
    }
    await api.app.request('/healthz');
  });
});
