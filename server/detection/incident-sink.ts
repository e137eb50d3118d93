/**
 * Detection's incident writer: turns episode changes into incident lifecycle verbs (open, extend,
 * resolve), which call the IncidentListener inside the same transaction. Detection owns the
 * numbers and the text; people own state, acknowledgement, note and feedback.
 */
import type { Clock } from '../clock.ts';
import type { Db, Queryable, Tx } from '../db/client.ts';
import type { IncidentRow } from '../db/schema/index.ts';
import type { IncidentListener } from '../incidents/events.ts';
import {
  extendIncident,
  findIncidentRow,
  type NewIncident,
  openIncident,
  resolveIncident,
  unresolvedIncidents,
} from '../incidents/lifecycle.ts';
import { parseSignals, type StoredSignal } from '../incidents/signals.ts';
import { whatToDo } from '../incidents/what-to-do.ts';
import { iso } from '../timestamps.ts';
import { type Contributors, findContributors } from './contributors.ts';
import {
  ACCOUNT_SUBJECT,
  createEpisodeBook,
  type Episode,
  type EpisodeChange,
  keySubject,
  type Signal,
  summarizeEpisode,
} from './core/episodes.ts';
import { summarize } from './core/explain.ts';
import { type DetectorKind, FLOOR_EXEMPT, type Params } from './core/params.ts';
import type { Unit } from './core/types.ts';
import type { LateEpisode } from './late-usage.ts';
import type { WritingSink } from './replay.ts';

/** Contributors are re-queried at most this often (in data time) while an episode grows. */
const CONTRIBUTORS_EVERY = 10 * 60_000;

type Details = {
  window: { from: string; to: string };
  unit: string;
  baseline: { expected: number; low: number; high: number; method: string };
  contributors?: Contributors;
  actions: string[];
  facts: Signal['facts'];
  peak_window: { from: string; to: string };
  contributors_at?: number;
  /** The episode's impact bookkeeping (see core/episodes.ts), so a later run counts on. */
  impact_bucket: number;
  impact_bucket_credits: number;
  network?: string;
  /** False when the incident is below the credit floor: recorded and digested, not paged. */
  pages: boolean;
  /** For an unknown-token network: the discovered keys seen in it (a few). */
  keys?: string[];
  /** Found when usage arrived for minutes already judged: when it arrived, and how late. */
  late?: { arrived_at: string; late_by_minutes: number };
};

const KIND_WORDS = (kind: string) => kind.replace(/_/g, ' ');

function toStored(s: Signal, summary: string): StoredSignal {
  return {
    kind: s.kind,
    severity: s.severity,
    started_at: s.startedAt,
    detected_at: s.detectedAt,
    last_seen_at: s.lastSeenAt,
    observed: s.observed,
    expected: s.expected,
    score: s.score,
    impact: s.impact,
    unit: s.unit,
    summary,
    band: s.band,
    peak_window: s.peakWindow,
    facts: s.facts,
  };
}

function fromStored(s: StoredSignal): Signal {
  return {
    kind: s.kind as DetectorKind,
    severity: s.severity,
    startedAt: s.started_at,
    detectedAt: s.detected_at,
    lastSeenAt: s.last_seen_at,
    observed: s.observed,
    expected: s.expected,
    score: s.score,
    impact: s.impact,
    unit: s.unit as Unit,
    band: s.band ?? { low: 0, high: 0, method: '' },
    peakWindow: s.peak_window ?? { from: s.started_at, to: s.last_seen_at },
    facts: s.facts ?? {},
  };
}

export function episodeFromRow(row: IncidentRow): Episode {
  const d = JSON.parse(row.details || '{}') as Partial<Details>;
  return {
    id: row.id,
    keyId: row.keyId,
    subject: row.subject || (row.keyId ? keySubject(row.keyId) : ACCOUNT_SUBJECT),
    signals: parseSignals(row).map(fromStored),
    impact: row.impactCredits,
    impactBucket: d.impact_bucket ?? row.lastSeenAt,
    impactBucketCredits: d.impact_bucket_credits ?? 0,
    ...(d.keys && { members: d.keys }),
  };
}

export async function createIncidentSink(
  deps: { db: Db; clock: Clock; config: { timeZone: string } },
  listener: IncidentListener,
  keyNames: Map<string, string>,
  quietMs: (keyId: string | null) => number,
) {
  const book = createEpisodeBook(
    (await unresolvedIncidents(deps.db))
      .filter((r) => !r.kind.startsWith('budget_') && parseSignals(r).length > 0)
      .map(episodeFromRow),
  );
  let tx: Tx | null = null;
  let opened = 0;
  /** The rules each subject was last judged with (its credit floor). */
  const paramsOf = new Map<string, Params>();

  const network = (e: Episode) => (e.subject.startsWith('network:') ? e.subject.slice(8) : undefined);
  const explainFor = (e: Episode) => {
    const net = network(e);
    return net
      ? { key: null, who: `Unknown keys from ${net}` }
      : { key: e.keyId ? (keyNames.get(e.keyId) ?? e.keyId) : null };
  };

  const details = async (
    db: Queryable,
    e: Episode,
    lead: ReturnType<typeof summarizeEpisode>,
    previous: Details | null,
  ): Promise<Details> => {
    const from = Math.min(lead.startedAt, lead.peakWindow.from);
    const stale =
      !previous?.contributors_at || lead.lastSeenAt - previous.contributors_at >= CONTRIBUTORS_EVERY;
    const contributors =
      e.keyId === null
        ? undefined
        : stale
          ? await findContributors(db, e.keyId, from, lead.lastSeenAt)
          : previous?.contributors;
    const net = network(e);
    return {
      window: { from: iso(lead.startedAt), to: iso(lead.lastSeenAt) },
      unit: lead.unit,
      baseline: {
        expected: lead.expected,
        low: lead.band.low,
        high: lead.band.high,
        method: lead.band.method,
      },
      ...(contributors && { contributors }),
      // Kept for API and webhook readers; page and email call whatToDo themselves.
      actions: whatToDo(lead.kind, lead.severity),
      facts: lead.facts,
      peak_window: { from: iso(lead.peakWindow.from), to: iso(lead.peakWindow.to) },
      contributors_at: stale ? lead.lastSeenAt : (previous?.contributors_at ?? lead.lastSeenAt),
      impact_bucket: e.impactBucket,
      impact_bucket_credits: e.impactBucketCredits,
      ...(net && { network: net, keys: e.members ?? [] }),
      pages:
        net !== undefined ||
        e.signals.some((s) => FLOOR_EXEMPT.has(s.kind)) ||
        e.impact >= (paramsOf.get(e.subject)?.baseline.page_floor_credits ?? 0),
    };
  };

  const columns = async (
    db: Queryable,
    e: Episode,
    previous: Details | null,
    late?: Details['late'],
  ): Promise<Columns> => {
    const lead = summarizeEpisode(e);
    const who = explainFor(e);
    const signals = e.signals.map((s) =>
      toStored(s, summarize({ ...s, ...who, timeZone: deps.config.timeZone })),
    );
    const leadSummary = signals.find((s) => s.kind === lead.kind)?.summary ?? '';
    const others = e.signals.filter((s) => s.kind !== lead.kind).map((s) => KIND_WORDS(s.kind));
    return {
      kind: lead.kind,
      severity: lead.severity,
      lastSeenAt: lead.lastSeenAt,
      observed: lead.observed,
      expected: lead.expected,
      score: lead.score,
      impactCredits: e.impact,
      summary: [
        leadSummary,
        others.length ? `Also seen: ${others.join(', ')}.` : '',
        lateNote(late ?? previous?.late),
      ]
        .filter(Boolean)
        .join(' '),
      details: JSON.stringify({
        ...(await details(db, e, lead, previous)),
        ...((late ?? previous?.late) && { late: late ?? previous?.late }),
      }),
      signals,
      detectedAt: lead.detectedAt,
      startedAt: lead.startedAt,
    };
  };

  /**
   * What a chunk's findings do to incidents, worked out before its write transaction: the book is
   * applied and each row's columns built (contributors are four aggregate reads of the usage
   * tables) outside it, so the transaction that moves the cursor only writes. An incident opened
   * here has no row yet: it carries a placeholder id until flush() inserts it.
   */
  const pending: Op[] = [];
  /** Placeholder ids of incidents opened by pending ops, to the ids their rows got. */
  const realIds = new Map<string, string>();
  let placeholders = 0;
  /** The details each incident was last written with (a later extension builds on them). */
  const lastDetails = new Map<string, Details | null>();
  const idOf = (e: Episode) => (e.id === null ? null : (realIds.get(e.id) ?? e.id));
  const previousDetails = async (id: string): Promise<Details | null> => {
    if (lastDetails.has(id)) return lastDetails.get(id)!;
    // An incident of an earlier run: only detection writes its details, so a read outside the
    // write transaction sees what the transaction would.
    const row = await findIncidentRow(deps.db, id);
    const d = row ? (JSON.parse(row.details || '{}') as Details) : null;
    lastDetails.set(id, d);
    return d;
  };

  const plan = async (change: EpisodeChange, at: number) => {
    const e = change.episode;
    if (change.type === 'opened' || !e.id) {
      const cols = await columns(deps.db, e, null);
      e.id = `pending:${placeholders++}`;
      lastDetails.set(e.id, JSON.parse(cols.details) as Details);
      pending.push({ type: 'open', episode: e, columns: cols, at });
      return;
    }
    const previous = await previousDetails(e.id);
    // Its row is gone (retention): nothing to extend, as before.
    if (!previous) return;
    const { detectedAt: _first, ...update } = await columns(deps.db, e, previous);
    lastDetails.set(e.id, JSON.parse(update.details) as Details);
    pending.push({ type: 'extend', episode: e, update, at });
  };

  /**
   * Writes the planned changes, in order, inside the transaction that moves the cursor; returns
   * how many.
   */
  const flush = async (tx: Tx): Promise<number> => {
    const n = pending.length;
    const now = deps.clock.now();
    for (const op of pending) {
      const when = { at: op.at, now };
      if (op.type === 'open') {
        const { episode: e } = op;
        const row = await openIncident(
          tx,
          listener,
          { keyId: e.keyId, subject: e.subject, ...op.columns },
          when,
        );
        realIds.set(e.id!, row.id);
        opened++;
      } else {
        const id = idOf(op.episode);
        if (!id) continue;
        if (op.type === 'extend') await extendIncident(tx, listener, id, op.update, when);
        else {
          await resolveIncident(tx, listener, id, when);
          // Its episode is over: nothing will build on its details again.
          for (const key of [id, op.episode.id!]) lastDetails.delete(key);
          realIds.delete(op.episode.id!);
        }
      }
    }
    pending.length = 0;
    return n;
  };

  /**
   * An episode a late replay found that no incident covers: opened now, saying how late its data
   * came; resolved at once if it had already ended, else carried on by the live book.
   */
  const raiseLate = async (found: LateEpisode) => {
    if (!tx) throw new Error('incident sink used outside a transaction');
    const e = found.episode;
    const lead = summarizeEpisode(e);
    const late = {
      arrived_at: iso(found.arrivedAt),
      late_by_minutes: Math.max(0, Math.round((found.arrivedAt - lead.detectedAt) / 60_000)),
    };
    const when = { at: lead.lastSeenAt, now: deps.clock.now() };
    const row = await openIncident(
      tx,
      listener,
      { keyId: e.keyId, subject: e.subject, ...(await columns(tx, e, null, late)) },
      when,
    );
    opened++;
    if (found.endedAt !== null)
      await resolveIncident(tx, listener, row.id, { at: found.endedAt, now: when.now });
    else book.adopt({ ...e, id: row.id });
  };

  /** Plans (see plan()); flush() writes. */
  const sink: WritingSink = {
    async finding(subject, f, params) {
      paramsOf.set(subject.subject, params);
      await plan(book.apply(subject, f, params), f.window.to);
    },
    async tick(t) {
      for (const e of book.due(t, quietMs)) if (e.id) pending.push({ type: 'resolve', episode: e, at: t });
    },
  };
  return {
    sink,
    flush,
    raiseLate,
    setTx(next: Tx | null) {
      tx = next;
    },
    opened: () => opened,
  };
}

/** An incident's measured columns, as detection writes them. */
type Columns = Omit<NewIncident, 'keyId' | 'subject'> & { detectedAt: number; signals: StoredSignal[] };
type Op =
  | { type: 'open'; episode: Episode; columns: Columns; at: number }
  | { type: 'extend'; episode: Episode; update: Omit<Columns, 'detectedAt'>; at: number }
  | { type: 'resolve'; episode: Episode; at: number };

function lateNote(late: Details['late'] | undefined): string {
  if (!late) return '';
  const m = late.late_by_minutes;
  const by = m < 120 ? `${m} min` : m < 2880 ? `${Math.round(m / 60)} h` : `${Math.round(m / 1440)} days`;
  return `Its usage data arrived ${by} late.`;
}
