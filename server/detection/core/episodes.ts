/**
 * Episodes: findings become incidents, one per (key, kind) episode. A finding opens an episode or
 * extends the open one (last seen, impact, peak observation, severity may only rise); an episode
 * with no finding for the quiet period resolves. Pure: persistence is the caller's.
 */
import { maxSeverity, type Severity } from '../../incidents/kinds.ts';
import { severityFor } from './explain.ts';
import type { DetectorKind, Params } from './params.ts';
import type { Finding, Unit } from './types.ts';

export type Episode = {
  id: string | null;
  keyId: string | null;
  kind: DetectorKind;
  severity: Severity;
  startedAt: number;
  lastSeenAt: number;
  observed: number;
  expected: number;
  score: number;
  impact: number;
  unit: Unit;
  band: { low: number; high: number; method: string };
  peakWindow: { from: number; to: number };
  facts: Record<string, string | number | string[]>;
};

export type EpisodeChange = { type: 'opened' | 'updated'; episode: Episode; previous: Episode | null };

export const episodeKey = (keyId: string | null, kind: string) => `${keyId ?? ''}\u0000${kind}`;

export function openEpisode(keyId: string | null, f: Finding, params: Params): Episode {
  return {
    id: null,
    keyId,
    kind: f.kind,
    severity: severityFor(f.kind, f.windowImpact, params),
    startedAt: f.at,
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

export function extendEpisode(e: Episode, f: Finding, params: Params): Episode {
  const impact = e.impact + f.bucketImpact;
  const peak = f.observed - f.expected >= e.observed - e.expected;
  return {
    ...e,
    lastSeenAt: Math.max(e.lastSeenAt, f.window.to),
    impact,
    score: Math.max(e.score, f.score),
    severity: maxSeverity(e.severity, severityFor(e.kind, impact, params)),
    ...(peak && {
      observed: f.observed,
      expected: f.expected,
      band: { low: f.low, high: f.high, method: f.method },
      peakWindow: f.window,
      facts: { ...e.facts, ...(f.facts ?? {}) },
    }),
  };
}

/** The open episodes of a run, and what changed. */
export function createEpisodeBook(open: Episode[]) {
  const byKey = new Map(open.map((e) => [episodeKey(e.keyId, e.kind), e]));
  return {
    apply(keyId: string | null, f: Finding, params: Params): EpisodeChange {
      const k = episodeKey(keyId, f.kind);
      const previous = byKey.get(k) ?? null;
      const episode = previous ? extendEpisode(previous, f, params) : openEpisode(keyId, f, params);
      byKey.set(k, episode);
      return { type: previous ? 'updated' : 'opened', episode, previous };
    },
    /** Episodes quiet for their key's quiet period at time `t`; they are removed from the book. */
    due(t: number, quietMs: (keyId: string | null) => number): Episode[] {
      const out: Episode[] = [];
      for (const [k, e] of byKey) {
        if (t >= e.lastSeenAt + quietMs(e.keyId)) {
          out.push(e);
          byKey.delete(k);
        }
      }
      return out;
    },
  };
}

export type EpisodeBook = ReturnType<typeof createEpisodeBook>;
