/**
 * Detection on simulated traffic: labelled incidents of every kind over >= 30 days and >= 8 keys,
 * several seeds; recall per kind, detection delays, and false incidents per key-month on clean
 * runs (no incidents injected) and outside labelled windows on incident runs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAlertListener } from '../../server/alerts/notify.ts';
import { DAY, fakeClock, HOUR, MINUTE } from '../../server/clock.ts';
import { loadConfig } from '../../server/config.ts';
import { openStore } from '../../server/db/client.ts';
import { runDetection } from '../../server/detection/run-detection.ts';
import { silentLogger } from '../../server/log.ts';
import { ingestSimulation } from '../../server/simulate/ingest-simulation.ts';
import type { SimLabel } from '../../server/simulate/scenarios.ts';

export const SIM_END = Date.UTC(2026, 9, 28, 18, 30);

export type IncidentLite = {
  id: string;
  key: string | null;
  kind: string;
  started_at: number;
  last_seen_at: number;
  /** Names of the keys it is about: its key, or the unknown keys of its network. */
  keys: string[];
  signals: { kind: string; started_at: number; detected_at: number }[];
  /** Messages queued for it on the email channel. */
  messages: number;
};

/** Live operation runs detection every minute; the eval steps this often, with the clock at data time. */
const STEP = 5 * MINUTE;

export type SimRun = {
  seed: number;
  days: number;
  keys: number;
  labels: SimLabel[];
  changes: SimChange[];
  incidents: IncidentLite[];
  ms: number;
};
export type SimChange = Awaited<ReturnType<typeof ingestSimulation>>['changes'][number];

export async function runSimulation(
  seed: number,
  days: number,
  keys: number,
  incidents: boolean,
  options: { end?: number; timeZone?: string; judgeIn?: string; changes?: boolean } = {},
): Promise<SimRun> {
  const end = options.end ?? SIM_END;
  const dir = mkdtempSync(join(tmpdir(), 'keywatch-eval-'));
  const config = loadConfig({
    KEYWATCH_DB: join(dir, 'kw.db'),
    KEYWATCH_SECRET: 'e'.repeat(48),
    KEYWATCH_LOG_LEVEL: 'silent',
    ALERT_SECURITY_TO: 'oncall@example.com',
    ALERT_BILLING_TO: 'billing@example.com',
    KEYWATCH_TZ: options.judgeIn ?? options.timeZone ?? 'UTC',
  });
  const store = openStore(config.dbPath);
  const clock = fakeClock(end);
  const deps = { db: store.db, sqlite: store.sqlite, clock, config, log: silentLogger };
  try {
    const sim = await ingestSimulation(
      { ...deps, secret: config.secret },
      {
        seed,
        days,
        keys,
        end,
        incidents,
        changes: options.changes ?? true,
        ...(options.timeZone && { timeZone: options.timeZone }),
      },
      'eval',
    );
    // As live operation would: detection every few minutes with the clock at data time, the alert
    // listener deciding what to send, and the sender taking every due message after each pass.
    const listener = createAlertListener(deps);
    const sent = store.sqlite.prepare(
      `UPDATE alert_outbox SET status = 'sent', attempts = 1, sent_at = ? WHERE status = 'pending' AND next_attempt_at <= ?`,
    );
    const started = performance.now();
    for (let t = end - days * DAY; t <= end; t += STEP) {
      clock.set(Math.min(t, end));
      await runDetection(deps, { until: clock.now(), listener });
      sent.run(clock.now(), clock.now());
    }
    const ms = performance.now() - started;
    const names = new Map(
      store.sqlite
        .prepare<[], { id: string; name: string }>('SELECT id, name FROM keys')
        .all()
        .map((k) => [k.id, k.name]),
    );
    const rows = store.sqlite
      .prepare<
        [],
        {
          id: string;
          key_id: string | null;
          kind: string;
          started_at: number;
          last_seen_at: number;
          details: string;
          signals: string;
          messages: number;
        }
      >(
        `SELECT i.id, i.key_id, i.kind, i.started_at, i.last_seen_at, i.details, i.signals,
           (SELECT count(*) FROM alert_outbox o WHERE o.incident_id = i.id AND o.channel = 'email') AS messages
         FROM incidents i ORDER BY i.started_at`,
      )
      .all();
    const judged = rows.map((r): IncidentLite => {
      const members = (JSON.parse(r.details) as { keys?: string[] }).keys ?? [];
      const ids = r.key_id ? [r.key_id] : members;
      return {
        id: r.id,
        key: r.key_id ? (names.get(r.key_id) ?? null) : null,
        kind: r.kind,
        started_at: r.started_at,
        last_seen_at: r.last_seen_at,
        keys: ids.map((id) => names.get(id) ?? id),
        signals: JSON.parse(r.signals) as IncidentLite['signals'],
        messages: r.messages,
      };
    });
    return { seed, days, keys, labels: sim.labels, changes: sim.changes, incidents: judged, ms };
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const labelKey = (l: SimLabel) => (l.key === '(account)' ? null : l.key);
const about = (i: IncidentLite, l: SimLabel) =>
  labelKey(l) === null ? i.keys.length === 0 && i.key === null : i.keys.includes(l.key);

/** Incidents about the label's subject that overlap its window (with an hour of tail for aftermath). */
export function incidentsOf(label: SimLabel, incidents: readonly IncidentLite[]): IncidentLite[] {
  return incidents.filter(
    (i) => about(i, label) && i.started_at < label.end + HOUR && i.last_seen_at > label.start - HOUR,
  );
}

/**
 * The detection of a label: a signal of its kind on an incident about its subject, started inside
 * the labelled window; the delay runs from the label's start to the signal's `detected_at`.
 */
export function detectionOf(
  label: SimLabel,
  incidents: readonly IncidentLite[],
): { delay: number } | undefined {
  for (const i of incidentsOf(label, incidents)) {
    const s = i.signals.find(
      (s) => s.kind === label.kind && s.started_at >= label.start - MINUTE && s.started_at < label.end,
    );
    if (s) return { delay: s.detected_at - label.start };
  }
  return undefined;
}

/** Incidents that overlap no labelled window on their subject. */
export function falseIncidents(run: SimRun): IncidentLite[] {
  return run.incidents.filter((i) => !run.labels.some((l) => incidentsOf(l, [i]).length > 0));
}

export type SimSummary = {
  perKind: Record<string, { found: number; total: number; delays: number[] }>;
  /** Per labelled compromise: incidents about it, and email messages sent for them. */
  incidentsPerCompromise: number[];
  messagesPerCompromise: { messages: number; short: boolean }[];
  recall: number;
  falsePerKeyMonthClean: number;
  falsePerKeyMonthIncidentRuns: number;
  falseClean: IncidentLite[];
  runs: SimRun[];
};

export async function evaluateSimulation(seeds: number[], days: number, keys: number): Promise<SimSummary> {
  const perKind: SimSummary['perKind'] = {};
  const incidentsPerCompromise: number[] = [];
  const messagesPerCompromise: SimSummary['messagesPerCompromise'] = [];
  const runs: SimRun[] = [];
  let falseInRuns = 0;
  let falseClean: IncidentLite[] = [];
  let keyMonths = 0;
  for (const seed of seeds) {
    const run = await runSimulation(seed, days, keys, true);
    runs.push(run);
    for (const label of run.labels) {
      perKind[label.kind] = perKind[label.kind] ?? { found: 0, total: 0, delays: [] };
      const k = perKind[label.kind]!;
      k.total++;
      const hit = detectionOf(label, run.incidents);
      if (hit) {
        k.found++;
        k.delays.push(hit.delay);
      }
      const its = incidentsOf(label, run.incidents);
      incidentsPerCompromise.push(its.length);
      messagesPerCompromise.push({
        messages: its.reduce((n, i) => n + i.messages, 0),
        short: label.end - label.start < 2 * HOUR,
      });
    }
    falseInRuns += falseIncidents(run).length;
    const clean = await runSimulation(seed, days, keys, false);
    runs.push(clean);
    falseClean = falseClean.concat(clean.incidents);
    keyMonths += (keys * days) / 30;
  }
  const total = Object.values(perKind).reduce((s, k) => s + k.total, 0);
  const found = Object.values(perKind).reduce((s, k) => s + k.found, 0);
  return {
    perKind,
    incidentsPerCompromise,
    messagesPerCompromise,
    recall: found / Math.max(1, total),
    falsePerKeyMonthClean: falseClean.length / keyMonths,
    falsePerKeyMonthIncidentRuns: falseInRuns / keyMonths,
    falseClean,
    runs,
  };
}

/**
 * What each legitimate change may raise on its key (its goal), and what it did raise: a step that
 * holds (a launch, a new customer) at most one incident, a moved batch none after its first day,
 * everything else none. Counted on clean runs, where every incident is a false one.
 */
export type ChangeOutcome = { change: SimChange; seed: number; incidents: IncidentLite[]; allowed: number };

export function changeOutcomes(runs: readonly SimRun[]): ChangeOutcome[] {
  const out: ChangeOutcome[] = [];
  for (const run of runs) {
    if (run.labels.length > 0) continue;
    for (const change of run.changes) {
      const after = change.type === 'batch_move' ? change.from + DAY : change.from - HOUR;
      const incidents = run.incidents.filter((i) => i.key === change.key && i.last_seen_at > after);
      const allowed = change.type === 'launch' || change.type === 'new_customer' ? 1 : 0;
      out.push({ change, seed: run.seed, incidents, allowed });
    }
  }
  return out;
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

/**
 * A team in `timeZone` over `days` spanning a daylight-saving change at `change`: the incidents of
 * the hour-of-week kinds (off hours, credit spikes) that started in the week after it. Their
 * schedule follows their own clock, so each of these is a false incident caused by the change.
 */
export async function evaluateDst(
  seed: number,
  timeZone: string,
  change: number,
  options: { days?: number; keys?: number; judgeIn?: string } = {},
) {
  const end = change + 21 * DAY;
  const run = await runSimulation(seed, options.days ?? 70, options.keys ?? 10, false, {
    end,
    timeZone,
    changes: false,
    ...(options.judgeIn && { judgeIn: options.judgeIn }),
  });
  const caused = run.incidents.filter(
    (i) =>
      i.started_at >= change &&
      i.started_at < change + 7 * DAY &&
      i.signals.some((s) => s.kind === 'off_hours' || s.kind === 'credit_spike'),
  );
  return { run, caused };
}
