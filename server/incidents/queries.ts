/** Reading incidents for the API: filtered lists and one by id. */
import { and, desc, eq, gte, inArray, lt, or, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../db/client.ts';
import { INCIDENT_STATES, type IncidentRow, incidents, keys } from '../db/schema/index.ts';
import { issuesFromZod, notFound, validationError } from '../errors.ts';
import { refuseEmptyWindow, TimestampSchema } from '../timestamps.ts';
import { type IncidentView, toIncidentView } from './view.ts';

export const IncidentListQuerySchema = z.strictObject({
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

export type IncidentFilter = {
  state?: IncidentRow['state'][];
  kind?: string[];
  keyId?: string;
  /** Incidents still going at or after this time. */
  from?: number;
  /** Incidents that started before this time. */
  to?: number;
  limit?: number;
};

/** Newest first. */
export async function queryIncidents(db: Db, filter: IncidentFilter = {}): Promise<IncidentView[]> {
  const where: SQL[] = [];
  if (filter.from !== undefined) where.push(gte(incidents.lastSeenAt, filter.from));
  if (filter.to !== undefined) where.push(lt(incidents.startedAt, filter.to));
  if (filter.state?.length) where.push(inArray(incidents.state, filter.state));
  if (filter.kind?.length) where.push(inArray(incidents.kind, filter.kind));
  if (filter.keyId) where.push(eq(incidents.keyId, filter.keyId));
  return (
    await db
      .select({ incident: incidents, keyName: keys.name })
      .from(incidents)
      .leftJoin(keys, eq(keys.id, incidents.keyId))
      .where(where.length ? and(...where) : undefined)
      .orderBy(desc(incidents.startedAt), desc(incidents.id))
      .limit(filter.limit ?? 100)
  ).map((r) => toIncidentView(r.incident, r.keyName));
}

/** GET /api/v1/incidents: validates the query string, then queries. */
export async function listIncidents(db: Db, query: Record<string, string>): Promise<IncidentView[]> {
  const parsed = IncidentListQuerySchema.safeParse(query);
  if (!parsed.success) throw validationError(issuesFromZod(parsed.error.issues));
  const q = parsed.data;
  // As the usage endpoints answer: an empty window is a mistake in the request, not "no incidents".
  if (q.from !== undefined && q.to !== undefined) refuseEmptyWindow(q.from, q.to);
  const states = csv(q.state);
  const bad = states.filter((s) => !(INCIDENT_STATES as readonly string[]).includes(s));
  if (bad.length)
    throw validationError([{ path: 'state', message: `must be among ${INCIDENT_STATES.join(', ')}` }]);
  let keyId: string | undefined;
  if (q.key) {
    keyId = (
      await db
        .select({ id: keys.id })
        .from(keys)
        .where(or(eq(keys.id, q.key), eq(keys.name, q.key)))
        .limit(1)
    )[0]?.id;
    if (!keyId) throw notFound(`Key "${q.key}"`);
  }
  return await queryIncidents(db, {
    state: states as IncidentRow['state'][],
    kind: csv(q.kind),
    limit: q.limit,
    ...(keyId && { keyId }),
    ...(q.from !== undefined && { from: q.from }),
    ...(q.to !== undefined && { to: q.to }),
  });
}

export async function findIncidentView(db: Db, id: string): Promise<IncidentView | undefined> {
  const row = (
    await db
      .select({ incident: incidents, keyName: keys.name })
      .from(incidents)
      .leftJoin(keys, eq(keys.id, incidents.keyId))
      .where(eq(incidents.id, id))
      .limit(1)
  )[0];
  return row && toIncidentView(row.incident, row.keyName);
}

export async function getIncident(db: Db, id: string): Promise<IncidentView> {
  const view = await findIncidentView(db, id);
  if (!view) throw notFound(`Incident ${id}`);
  return view;
}
