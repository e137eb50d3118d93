/**
 * The signals of an incident as stored in its `signals` column (epoch ms) and as the API shows
 * them (ISO times): one per kind that fired while the episode was open.
 */
import type { IncidentRow } from '../db/schema/index.ts';
import { iso } from '../timestamps.ts';
import type { Severity } from './kinds.ts';

export type StoredSignal = {
  kind: string;
  severity: Severity;
  started_at: number;
  detected_at: number;
  last_seen_at: number;
  observed: number;
  expected: number;
  score: number;
  /** This signal's own excess credits. */
  impact: number;
  unit: string;
  summary: string;
  band?: { low: number; high: number; method: string };
  peak_window?: { from: number; to: number };
  facts?: Record<string, string | number | string[]>;
};

export function parseSignals(row: Pick<IncidentRow, 'signals'>): StoredSignal[] {
  try {
    const parsed = JSON.parse(row.signals) as unknown;
    return Array.isArray(parsed) ? (parsed as StoredSignal[]) : [];
  } catch {
    return [];
  }
}

export function toSignalView(s: StoredSignal) {
  return {
    kind: s.kind,
    severity: s.severity,
    started_at: iso(s.started_at),
    detected_at: iso(s.detected_at),
    last_seen_at: iso(s.last_seen_at),
    observed: s.observed,
    expected: s.expected,
    unit: s.unit,
    summary: s.summary,
    // The evidence behind a client_exposure signal (user agents, origins, networks): API.md
    // promises it in the signal, and it holds origins only, never a key.
    ...(s.kind === 'client_exposure' && { evidence: s.facts ?? {} }),
  };
}

export type SignalView = ReturnType<typeof toSignalView>;
