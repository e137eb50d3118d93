/** Incidents for the pages, read straight from the incidents table and shaped as IncidentView. */
import { and, desc, eq, gte, inArray, lt, type SQL } from 'drizzle-orm';
import type { Db } from '../../server/db/client.ts';
import { type IncidentRow, type IncidentState, incidents, keys } from '../../server/db/schema/index.ts';
import { iso, isoOrNull } from '../../server/timestamps.ts';

export type IncidentDetails = {
  window?: { from: string; to: string };
  unit?: string;
  baseline?: { expected?: number; low?: number; high?: number; method?: string };
  contributors?: {
    operations?: { name: string; credits: number; requests: number }[];
    ips?: { value: string; requests: number }[];
    user_agents?: { value: string; requests: number }[];
    hours?: { hour: number; credits: number }[];
  };
  actions?: string[];
};

export type IncidentView = {
  id: string;
  key: string | null;
  key_id: string | null;
  kind: string;
  severity: IncidentRow['severity'];
  state: IncidentState;
  started_at: string;
  last_seen_at: string;
  resolved_at: string | null;
  observed: number;
  expected: number;
  score: number;
  summary: string;
  impact_credits: number;
  acknowledged_by: string | null;
  acknowledged_at: string | null;
  note: string | null;
  snoozed_until: string | null;
  feedback: string | null;
  details: IncidentDetails;
};

export type IncidentFilter = {
  state?: IncidentState[];
  kind?: string;
  keyId?: string;
  from?: number;
  to?: number;
  limit?: number;
};

function parseDetails(raw: string): IncidentDetails {
  try {
    const value = JSON.parse(raw) as unknown;
    return value && typeof value === 'object' ? (value as IncidentDetails) : {};
  } catch {
    return {};
  }
}

export function toIncidentView(row: IncidentRow, keyName: string | null): IncidentView {
  return {
    id: row.id,
    key: keyName,
    key_id: row.keyId,
    kind: row.kind,
    severity: row.severity,
    state: row.state,
    started_at: iso(row.startedAt),
    last_seen_at: iso(row.lastSeenAt),
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
    details: parseDetails(row.details),
  };
}

export function listIncidents({ db }: { db: Db }, filter: IncidentFilter = {}): IncidentView[] {
  const where: SQL[] = [];
  if (filter.state?.length) where.push(inArray(incidents.state, filter.state));
  if (filter.kind) where.push(eq(incidents.kind, filter.kind));
  if (filter.keyId) where.push(eq(incidents.keyId, filter.keyId));
  if (filter.from !== undefined) where.push(gte(incidents.lastSeenAt, filter.from));
  if (filter.to !== undefined) where.push(lt(incidents.startedAt, filter.to));
  return db
    .select({ row: incidents, key: keys.name })
    .from(incidents)
    .leftJoin(keys, eq(keys.id, incidents.keyId))
    .where(where.length ? and(...where) : undefined)
    .orderBy(desc(incidents.startedAt))
    .limit(filter.limit ?? 200)
    .all()
    .map(({ row, key }) => toIncidentView(row, key));
}

export function findIncident({ db }: { db: Db }, id: string): IncidentView | undefined {
  const found = db
    .select({ row: incidents, key: keys.name })
    .from(incidents)
    .leftJoin(keys, eq(keys.id, incidents.keyId))
    .where(eq(incidents.id, id))
    .get();
  return found && toIncidentView(found.row, found.key);
}

export const SECURITY_KINDS = [
  'credit_spike',
  'sustained_elevation',
  'off_hours',
  'dormant_wake',
  'revoked_use',
  'auth_failures',
  'discovered_key',
  'new_source',
  'operation_mix',
  'unattributed_spend',
] as const;
export const INCIDENT_KINDS = [...SECURITY_KINDS, 'budget_threshold', 'budget_forecast'] as const;

export const kindLabel = (kind: string) => kind.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());
