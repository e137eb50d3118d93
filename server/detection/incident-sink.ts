/**
 * Detection's incident writer: turns episode changes into incident lifecycle verbs (open, extend,
 * resolve), which call the IncidentListener inside the same transaction. Detection owns the
 * numbers and the text; people own state, acknowledgement, note and feedback.
 */
import type { Clock } from '../clock.ts';
import type { Db, Sqlite, Tx } from '../db/client.ts';
import type { IncidentRow } from '../db/schema/index.ts';
import type { IncidentListener } from '../incidents/events.ts';
import {
  extendIncident,
  findIncidentRow,
  openIncident,
  resolveIncident,
  unresolvedIncidents,
} from '../incidents/lifecycle.ts';
import { iso } from '../timestamps.ts';
import { type Contributors, findContributors } from './contributors.ts';
import { createEpisodeBook, type Episode, type EpisodeChange } from './core/episodes.ts';
import { recommendActions, summarize } from './core/explain.ts';
import type { DetectorKind } from './core/params.ts';
import type { Sink } from './replay.ts';

/** Contributors are re-queried at most this often (in data time) while an episode grows. */
const CONTRIBUTORS_EVERY = 10 * 60_000;

type Details = {
  window: { from: string; to: string };
  unit: string;
  baseline: { expected: number; low: number; high: number; method: string };
  contributors?: Contributors;
  actions: string[];
  facts: Episode['facts'];
  peak_window: { from: string; to: string };
  contributors_at?: number;
};

export function episodeFromRow(row: IncidentRow): Episode {
  const d = JSON.parse(row.details || '{}') as Partial<Details>;
  return {
    id: row.id,
    keyId: row.keyId,
    kind: row.kind as DetectorKind,
    severity: row.severity,
    startedAt: row.startedAt,
    lastSeenAt: row.lastSeenAt,
    observed: row.observed,
    expected: row.expected,
    score: row.score,
    impact: row.impactCredits,
    unit: (d.unit as Episode['unit']) ?? 'credits',
    band: {
      low: d.baseline?.low ?? 0,
      high: d.baseline?.high ?? 0,
      method: d.baseline?.method ?? '',
    },
    peakWindow: {
      from: d.peak_window ? Date.parse(d.peak_window.from) : row.startedAt,
      to: d.peak_window ? Date.parse(d.peak_window.to) : row.lastSeenAt,
    },
    facts: d.facts ?? {},
  };
}

export function createIncidentSink(
  deps: { db: Db; sqlite: Sqlite; clock: Clock },
  listener: IncidentListener,
  keyNames: Map<string, string>,
  quietMs: (keyId: string | null) => number,
) {
  const book = createEpisodeBook(
    unresolvedIncidents(deps.db)
      .filter((r) => !r.kind.startsWith('budget_'))
      .map(episodeFromRow),
  );
  let tx: Tx | null = null;
  let opened = 0;

  const details = (e: Episode, previous: Details | null): Details => {
    const from = Math.min(e.startedAt, e.peakWindow.from);
    const stale = !previous?.contributors_at || e.lastSeenAt - previous.contributors_at >= CONTRIBUTORS_EVERY;
    const contributors =
      e.keyId === null
        ? undefined
        : stale
          ? findContributors(deps.sqlite, e.keyId, from, e.lastSeenAt)
          : previous?.contributors;
    return {
      window: { from: iso(e.startedAt), to: iso(e.lastSeenAt) },
      unit: e.unit,
      baseline: { expected: e.expected, low: e.band.low, high: e.band.high, method: e.band.method },
      ...(contributors && { contributors }),
      actions: recommendActions(e.kind),
      facts: e.facts,
      peak_window: { from: iso(e.peakWindow.from), to: iso(e.peakWindow.to) },
      contributors_at: stale ? e.lastSeenAt : (previous?.contributors_at ?? e.lastSeenAt),
    };
  };

  const columns = (e: Episode, previous: Details | null) => ({
    severity: e.severity,
    lastSeenAt: e.lastSeenAt,
    observed: e.observed,
    expected: e.expected,
    score: e.score,
    impactCredits: e.impact,
    summary: summarize({ ...e, key: e.keyId ? (keyNames.get(e.keyId) ?? e.keyId) : null }),
    details: JSON.stringify(details(e, previous)),
  });

  const write = (change: EpisodeChange, at: number) => {
    if (!tx) throw new Error('incident sink used outside a transaction');
    const e = change.episode;
    const when = { at, now: deps.clock.now() };
    if (change.type === 'opened' || !e.id) {
      const row = openIncident(
        tx,
        listener,
        { keyId: e.keyId, kind: e.kind, startedAt: e.startedAt, ...columns(e, null) },
        when,
      );
      e.id = row.id;
      opened++;
      return;
    }
    const before = findIncidentRow(tx, e.id);
    if (!before) return;
    extendIncident(tx, listener, e.id, columns(e, JSON.parse(before.details || '{}') as Details), when);
  };

  const sink: Sink = {
    finding(keyId, f, params) {
      write(book.apply(keyId, f, params), f.window.to);
    },
    tick(t) {
      for (const e of book.due(t, quietMs)) {
        if (tx && e.id) resolveIncident(tx, listener, e.id, { at: t, now: deps.clock.now() });
      }
    },
  };
  return {
    sink,
    setTx(next: Tx | null) {
      tx = next;
    },
    opened: () => opened,
  };
}
