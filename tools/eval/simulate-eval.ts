/**
 * Detection on simulated traffic: labelled incidents of every kind over >= 30 days and >= 8 keys,
 * several seeds; recall per kind, detection delays, and false incidents per key-month on clean
 * runs (no incidents injected) and outside labelled windows on incident runs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DAY, fakeClock, HOUR, MINUTE } from '../../server/clock.ts';
import { loadConfig } from '../../server/config.ts';
import { openStore } from '../../server/db/client.ts';
import { runDetection } from '../../server/detection/run-detection.ts';
import { silentLogger } from '../../server/log.ts';
import { ingestSimulation } from '../../server/simulate/ingest-simulation.ts';
import type { SimLabel } from '../../server/simulate/scenarios.ts';

export const SIM_END = Date.UTC(2026, 9, 28, 18, 30);

export type IncidentLite = { key: string | null; kind: string; started_at: number; last_seen_at: number };

export type SimRun = {
  seed: number;
  days: number;
  keys: number;
  labels: SimLabel[];
  incidents: IncidentLite[];
  ms: number;
};

export function runSimulation(seed: number, days: number, keys: number, incidents: boolean): SimRun {
  const dir = mkdtempSync(join(tmpdir(), 'keywatch-eval-'));
  const config = loadConfig({
    KEYWATCH_DB: join(dir, 'kw.db'),
    KEYWATCH_SECRET: 'e'.repeat(48),
    KEYWATCH_LOG_LEVEL: 'silent',
  });
  const store = openStore(config.dbPath);
  const clock = fakeClock(SIM_END);
  const deps = { db: store.db, sqlite: store.sqlite, clock, config, log: silentLogger };
  try {
    const sim = ingestSimulation(
      { ...deps, secret: config.secret },
      { seed, days, keys, end: SIM_END, incidents },
      'eval',
    );
    const started = performance.now();
    runDetection(deps, { until: SIM_END });
    const ms = performance.now() - started;
    const rows = store.sqlite
      .prepare<[], IncidentLite>(
        `SELECT k.name AS key, i.kind, i.started_at, i.last_seen_at FROM incidents i LEFT JOIN keys k ON k.id = i.key_id ORDER BY i.started_at`,
      )
      .all();
    return { seed, days, keys, labels: sim.labels, incidents: rows, ms };
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const labelKey = (l: SimLabel) => (l.key === '(account)' ? null : l.key);

/** The incident that detects a label: same kind and key, started inside the labelled window. */
export function detectionOf(label: SimLabel, incidents: readonly IncidentLite[]): IncidentLite | undefined {
  return incidents.find(
    (i) =>
      i.kind === label.kind &&
      i.key === labelKey(label) &&
      i.started_at >= label.start - MINUTE &&
      i.started_at < label.end,
  );
}

/** Incidents that overlap no labelled window on their key (with an hour of tail for aftermath). */
export function falseIncidents(run: SimRun): IncidentLite[] {
  return run.incidents.filter(
    (i) =>
      !run.labels.some(
        (l) => labelKey(l) === i.key && i.started_at < l.end + HOUR && i.last_seen_at > l.start - HOUR,
      ),
  );
}

export type SimSummary = {
  perKind: Record<string, { found: number; total: number; delays: number[] }>;
  recall: number;
  falsePerKeyMonthClean: number;
  falsePerKeyMonthIncidentRuns: number;
  falseClean: IncidentLite[];
  runs: SimRun[];
};

export function evaluateSimulation(seeds: number[], days: number, keys: number): SimSummary {
  const perKind: SimSummary['perKind'] = {};
  const runs: SimRun[] = [];
  let falseInRuns = 0;
  let falseClean: IncidentLite[] = [];
  let keyMonths = 0;
  for (const seed of seeds) {
    const run = runSimulation(seed, days, keys, true);
    runs.push(run);
    for (const label of run.labels) {
      perKind[label.kind] = perKind[label.kind] ?? { found: 0, total: 0, delays: [] };
      const k = perKind[label.kind]!;
      k.total++;
      const hit = detectionOf(label, run.incidents);
      if (hit) {
        k.found++;
        k.delays.push(hit.started_at + MINUTE - label.start);
      }
    }
    falseInRuns += falseIncidents(run).length;
    const clean = runSimulation(seed, days, keys, false);
    runs.push(clean);
    falseClean = falseClean.concat(clean.incidents);
    keyMonths += (keys * days) / 30;
  }
  const total = Object.values(perKind).reduce((s, k) => s + k.total, 0);
  const found = Object.values(perKind).reduce((s, k) => s + k.found, 0);
  return {
    perKind,
    recall: found / Math.max(1, total),
    falsePerKeyMonthClean: falseClean.length / keyMonths,
    falsePerKeyMonthIncidentRuns: falseInRuns / keyMonths,
    falseClean,
    runs,
  };
}

export const median = (xs: number[]) => {
  if (!xs.length) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
};

export const formatDelay = (ms: number) =>
  Number.isNaN(ms)
    ? '-'
    : ms < HOUR
      ? `${(ms / MINUTE).toFixed(0)} min`
      : ms < DAY
        ? `${(ms / HOUR).toFixed(1)} h`
        : `${(ms / DAY).toFixed(1)} d`;
