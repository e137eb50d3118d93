/** IncidentView (the agreed JSON shape) and the small reads the alerting side needs. */
import { eq } from 'drizzle-orm';
import type { Queryable } from '../db/client.ts';
import { type IncidentRow, incidents, type KeyRow, keys } from '../db/schema/index.ts';
import { isoOrNull } from '../timestamps.ts';

export type IncidentDetails = {
  window?: { from: string; to: string };
  unit?: string;
  baseline?: { expected: number; low?: number; high?: number; method?: string };
  contributors?: {
    operations?: { name: string; credits: number; requests: number }[];
    ips?: { value: string; requests: number }[];
    user_agents?: { value: string; requests: number }[];
    hours?: { hour: number; credits: number }[];
  };
  actions?: string[];
  [extra: string]: unknown;
};

export function parseDetails(row: Pick<IncidentRow, 'details'>): IncidentDetails {
  try {
    const parsed = JSON.parse(row.details) as unknown;
    return parsed && typeof parsed === 'object' ? (parsed as IncidentDetails) : {};
  } catch {
    return {};
  }
}

export function toIncidentView(row: IncidentRow, keyName: string | null) {
  return {
    id: row.id,
    key: keyName,
    key_id: row.keyId,
    kind: row.kind,
    severity: row.severity,
    state: row.state,
    started_at: isoOrNull(row.startedAt),
    last_seen_at: isoOrNull(row.lastSeenAt),
    resolved_at: isoOrNull(row.resolvedAt),
    observed: row.observed,
    expected: row.expected,
    score: row.score,
    summary: row.summary,
    impact_credits: row.impactCredits,
    acknowledged_by: row.acknowledgedBy,
    acknowledged_at: isoOrNull(row.acknowledgedAt),
    note: row.note,
    snoozed_until: isoOrNull(row.snoozedUntil),
    feedback: row.feedback,
    details: parseDetails(row),
  };
}

export type IncidentView = ReturnType<typeof toIncidentView>;

export function findIncident(db: Queryable, id: string): IncidentRow | undefined {
  return db.select().from(incidents).where(eq(incidents.id, id)).get();
}

export function findKeyRow(db: Queryable, keyId: string | null): KeyRow | undefined {
  return keyId ? db.select().from(keys).where(eq(keys.id, keyId)).get() : undefined;
}

export function viewIncident(db: Queryable, row: IncidentRow): IncidentView {
  return toIncidentView(row, findKeyRow(db, row.keyId)?.name ?? null);
}

export const SEVERITY_RANK = { info: 0, warning: 1, critical: 2 } as const;

export const isSecurityKind = (kind: string) => !kind.startsWith('budget_');

/** Kinds measured in something other than credits (when details.unit does not say). */
const COUNT_KINDS = new Set(['auth_failures', 'new_source', 'discovered_key']);

/** The size of an incident used for "re-notify when it doubles". */
export function impactOf(row: IncidentRow): number {
  const unit = parseDetails(row).unit;
  // Findings counted in requests, failures or sources grow by what was observed, not by credits.
  const byCount = unit ? unit !== 'credits' : COUNT_KINDS.has(row.kind);
  return byCount ? row.observed : row.impactCredits;
}
