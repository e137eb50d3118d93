/** IncidentView: the JSON shape of an incident (API.md and the brief), and the list/get queries. */
import { and, desc, eq, gte, inArray, lt, or, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../db/client.ts';
import { INCIDENT_STATES, type IncidentRow, incidents, keys } from '../db/schema/index.ts';
import { issuesFromZod, notFound, validationError } from '../errors.ts';
import { iso, isoOrNull, TimestampSchema } from '../timestamps.ts';

export function toIncidentView(row: IncidentRow, keyName: string | null) {
  const stored = JSON.parse(row.details || '{}') as Record<string, unknown>;
  const { window, unit, baseline, contributors, actions } = stored;
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
    details: { window, unit, baseline, contributors, actions },
  };
}

export type IncidentView = ReturnType<typeof toIncidentView>;

const ListQuery = z.strictObject({
  from: TimestampSchema.optional(),
  to: TimestampSchema.optional(),
  key: z.string().min(1).max(200).optional(),
  state: z.string().optional(),
  kind: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

const csv = (s: string | undefined) =>
  s
    ? s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean)
    : [];

export function listIncidents(db: Db, query: Record<string, string>): IncidentView[] {
  const parsed = ListQuery.safeParse(query);
  if (!parsed.success) throw validationError(issuesFromZod(parsed.error.issues));
  const q = parsed.data;
  const states = csv(q.state);
  const bad = states.filter((s) => !(INCIDENT_STATES as readonly string[]).includes(s));
  if (bad.length)
    throw validationError([{ path: 'state', message: `must be among ${INCIDENT_STATES.join(', ')}` }]);
  const where: SQL[] = [];
  if (q.from !== undefined) where.push(gte(incidents.lastSeenAt, q.from));
  if (q.to !== undefined) where.push(lt(incidents.startedAt, q.to));
  if (states.length) where.push(inArray(incidents.state, states as IncidentRow['state'][]));
  if (csv(q.kind).length) where.push(inArray(incidents.kind, csv(q.kind)));
  if (q.key) {
    const key = db
      .select({ id: keys.id })
      .from(keys)
      .where(or(eq(keys.id, q.key), eq(keys.name, q.key)))
      .get();
    if (!key) throw notFound(`Key "${q.key}"`);
    where.push(eq(incidents.keyId, key.id));
  }
  const rows = db
    .select({ incident: incidents, keyName: keys.name })
    .from(incidents)
    .leftJoin(keys, eq(keys.id, incidents.keyId))
    .where(where.length ? and(...where) : undefined)
    .orderBy(desc(incidents.startedAt), desc(incidents.id))
    .limit(q.limit)
    .all();
  return rows.map((r) => toIncidentView(r.incident, r.keyName));
}

export function getIncident(db: Db, id: string): IncidentView {
  const row = db
    .select({ incident: incidents, keyName: keys.name })
    .from(incidents)
    .leftJoin(keys, eq(keys.id, incidents.keyId))
    .where(eq(incidents.id, id))
    .get();
  if (!row) throw notFound(`Incident ${id}`);
  return toIncidentView(row.incident, row.keyName);
}
