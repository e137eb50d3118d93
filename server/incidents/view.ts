/** IncidentView: the public JSON shape of an incident (API.md), shared by detection, alerts and pages. */
import { eq } from 'drizzle-orm';
import type { Queryable } from '../db/client.ts';
import { type IncidentRow, incidents, type KeyRow, keys } from '../db/schema/index.ts';
import { iso, isoOrNull } from '../timestamps.ts';
import { parseSignals, toSignalView } from './signals.ts';

export type IncidentDetails = {
  window?: { from: string; to: string };
  /** The window the detector judged at the peak; baseline amounts are for a window this long. */
  peak_window?: { from: string; to: string };
  unit?: string;
  baseline?: { expected: number; low?: number; high?: number; method?: string };
  contributors?: {
    operations?: { name: string; credits: number; requests: number }[];
    ips?: { value: string; requests: number }[];
    user_agents?: { value: string; requests: number }[];
    /** Start of each hour (ISO); older incidents stored the hour of day as a number. */
    hours?: { hour: string | number; credits: number }[];
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

/** Detection's bookkeeping keeps epoch ms (`contributors_at`, `impact_bucket`, `facts.revoked_at`); answers say ISO. */
function detailsView(details: IncidentDetails): IncidentDetails {
  const isoTimes = (o: Record<string, unknown>) =>
    Object.fromEntries(
      Object.entries(o).map(([k, v]) => [k, /(_at|_bucket)$/.test(k) && typeof v === 'number' ? iso(v) : v]),
    );
  const view: IncidentDetails = isoTimes(details);
  if (details.facts && typeof details.facts === 'object')
    view.facts = isoTimes(details.facts as Record<string, unknown>);
  return view;
}

export function toIncidentView(row: IncidentRow, keyName: string | null) {
  return {
    id: row.id,
    key: keyName,
    key_id: row.keyId,
    kind: row.kind,
    severity: row.severity,
    state: row.state,
    subject: row.subject,
    started_at: iso(row.startedAt),
    detected_at: iso(row.detectedAt),
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
    details: detailsView(parseDetails(row)),
    signals: parseSignals(row).map(toSignalView),
  };
}

export type IncidentView = ReturnType<typeof toIncidentView>;

export async function findIncident(db: Queryable, id: string): Promise<IncidentRow | undefined> {
  return (await db.select().from(incidents).where(eq(incidents.id, id)).limit(1))[0];
}

export async function findKeyRow(db: Queryable, keyId: string | null): Promise<KeyRow | undefined> {
  return keyId ? (await db.select().from(keys).where(eq(keys.id, keyId)).limit(1))[0] : undefined;
}

export async function viewIncident(db: Queryable, row: IncidentRow): Promise<IncidentView> {
  return toIncidentView(row, (await findKeyRow(db, row.keyId))?.name ?? null);
}
