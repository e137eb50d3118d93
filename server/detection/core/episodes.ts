/**
 * Episodes: findings become incidents, one per subject (a key, the account, an unknown-token
 * network) per episode. Every kind that fires while the episode is open is one signal of it; a
 * signal opens, then extends (last seen, its own impact, peak observation; severity only rises).
 * The episode's impact is the subject's credits above expected, counted once per bucket however
 * many signals saw that bucket. An episode with no finding for the quiet period resolves.
 * Pure: persistence is the caller's.
 */
import { maxSeverity, SEVERITY_RANK, type Severity } from '../../incidents/kinds.ts';
import { severityFor } from './explain.ts';
import type { DetectorKind, Params } from './params.ts';
import type { Finding, Unit } from './types.ts';

export type Signal = {
  kind: DetectorKind;
  severity: Severity;
  startedAt: number;
  /** Data time at which the detector first raised it: the end of the bucket it judged. */
  detectedAt: number;
  lastSeenAt: number;
  observed: number;
  expected: number;
  score: number;
  /** This signal's own excess credits (the episode's impact counts each bucket once). */
  impact: number;
  unit: Unit;
  band: { low: number; high: number; method: string };
  peakWindow: { from: number; to: number };
  facts: Record<string, string | number | string[]>;
};

export type Episode = {
  id: string | null;
  /** The key, for key subjects; null for the account and for networks of unknown tokens. */
  keyId: string | null;
  subject: string;
  signals: Signal[];
  /** For a network subject: the discovered keys seen in it, the first few. */
  members?: string[];
  impact: number;
  /** The last bucket counted into `impact`, and the most any signal added for it. */
  impactBucket: number;
  impactBucketCredits: number;
};

export type EpisodeChange = { type: 'opened' | 'updated'; episode: Episode; previous: Episode | null };

/**
 * A burst keeps its episode open this much longer than the quiet period: the hourly sustained-level
 * evidence about the same rise needs a few hours to build, and is the burst's aftermath, not news.
 */
export const BURST_AFTERMATH_MS = 3 * 60 * 60_000;

export const keySubject = (keyId: string) => `key:${keyId}`;
export const ACCOUNT_SUBJECT = 'account';
export const networkSubject = (network: string) => `network:${network}`;

function openSignal(f: Finding, params: Params): Signal {
  return {
    kind: f.kind,
    severity: maxSeverity(severityFor(f.kind, f.windowImpact, params), f.minSeverity ?? 'info'),
    startedAt: f.at,
    detectedAt: f.window.to,
    lastSeenAt: f.window.to,
    observed: f.observed,
    expected: f.expected,
    score: f.score,
    impact: f.windowImpact,
    unit: f.unit,
    band: { low: f.low, high: f.high, method: f.method },
    peakWindow: f.window,
    facts: { ...(f.facts ?? {}) },
  };
}

function extendSignal(s: Signal, f: Finding, params: Params): Signal {
  const impact = s.impact + f.bucketImpact;
  const peak = f.observed - f.expected >= s.observed - s.expected;
  return {
    ...s,
    lastSeenAt: Math.max(s.lastSeenAt, f.window.to),
    impact,
    score: Math.max(s.score, f.score),
    severity: maxSeverity(
      s.severity,
      maxSeverity(severityFor(s.kind, impact, params), f.minSeverity ?? 'info'),
    ),
    ...(peak && {
      observed: f.observed,
      expected: f.expected,
      band: { low: f.low, high: f.high, method: f.method },
      peakWindow: f.window,
      facts: { ...s.facts, ...(f.facts ?? {}) },
    }),
  };
}

/** The signal that names the incident: the most severe, ties to the earliest. */
export function leadSignal(e: Pick<Episode, 'signals'>): Signal {
  let lead = e.signals[0]!;
  for (const s of e.signals) {
    const rank = SEVERITY_RANK[s.severity] - SEVERITY_RANK[lead.severity];
    if (rank > 0 || (rank === 0 && s.startedAt < lead.startedAt)) lead = s;
  }
  return lead;
}

/** What an incident shows of its episode: the lead signal's numbers, the episode's span and impact. */
export function summarizeEpisode(e: Episode) {
  const lead = leadSignal(e);
  return {
    ...lead,
    severity: e.signals.reduce<Severity>((m, s) => maxSeverity(m, s.severity), 'info'),
    startedAt: Math.min(...e.signals.map((s) => s.startedAt)),
    detectedAt: Math.min(...e.signals.map((s) => s.detectedAt)),
    lastSeenAt: Math.max(...e.signals.map((s) => s.lastSeenAt)),
    score: Math.max(...e.signals.map((s) => s.score)),
    impact: e.impact,
  };
}

/** Adds a finding's excess credits to the episode, once per bucket whichever signals saw it. */
function countImpact(
  e: Episode | null,
  f: Finding,
): Pick<Episode, 'impact' | 'impactBucket' | 'impactBucketCredits'> {
  if (!e) return { impact: f.windowImpact, impactBucket: f.at, impactBucketCredits: f.bucketImpact };
  if (f.at === e.impactBucket) {
    const more = Math.max(0, f.bucketImpact - e.impactBucketCredits);
    return { impact: e.impact + more, impactBucket: f.at, impactBucketCredits: e.impactBucketCredits + more };
  }
  if (f.at < e.impactBucket) return e;
  return { impact: e.impact + f.bucketImpact, impactBucket: f.at, impactBucketCredits: f.bucketImpact };
}

export type EpisodeSubject = { subject: string; keyId: string | null; member?: string };
const MAX_MEMBERS = 20;

function withMember(members: string[] | undefined, member: string | undefined) {
  if (!member || members?.includes(member) || (members?.length ?? 0) >= MAX_MEMBERS) return members;
  return [...(members ?? []), member];
}

export function applyFinding(
  e: Episode | null,
  subject: EpisodeSubject,
  f: Finding,
  params: Params,
): Episode {
  const { member, ...who } = subject;
  const members = withMember(e?.members, member);
  if (!e) {
    const signals = [openSignal(f, params)];
    return { id: null, ...who, signals, ...(members && { members }), ...countImpact(null, f) };
  }
  const i = e.signals.findIndex((s) => s.kind === f.kind);
  const signals =
    i < 0
      ? [...e.signals, openSignal(f, params)]
      : e.signals.map((s, j) => (j === i ? extendSignal(s, f, params) : s));
  return { ...e, signals, ...(members && { members }), ...countImpact(e, f) };
}

/** The open episodes of a run, by subject, and what changed. */
export function createEpisodeBook(open: Episode[]) {
  const bySubject = new Map(open.map((e) => [e.subject, e]));
  return {
    apply(subject: EpisodeSubject, f: Finding, params: Params): EpisodeChange {
      const previous = bySubject.get(subject.subject) ?? null;
      const episode = applyFinding(previous, subject, f, params);
      bySubject.set(subject.subject, episode);
      return { type: previous ? 'updated' : 'opened', episode, previous };
    },
    /** Takes over an episode found elsewhere (a late replay) that is still going. */
    adopt(e: Episode): void {
      if (!bySubject.has(e.subject)) bySubject.set(e.subject, e);
    },
    /** Episodes quiet for their subject's quiet period at time `t`; they are removed from the book. */
    due(t: number, quietMs: (keyId: string | null) => number): Episode[] {
      const out: Episode[] = [];
      for (const [k, e] of bySubject) {
        const last = Math.max(...e.signals.map((s) => s.lastSeenAt));
        const aftermath = e.signals.some((s) => s.kind === 'credit_spike') ? BURST_AFTERMATH_MS : 0;
        if (t >= last + quietMs(e.keyId) + aftermath) {
          out.push(e);
          bySubject.delete(k);
        }
      }
      return out;
    },
  };
}

export type EpisodeBook = ReturnType<typeof createEpisodeBook>;
