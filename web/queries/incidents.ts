/** Incidents for the pages: the shared queries and view, plus the kinds and labels the pages show. */
import type { Db } from '../../server/db/client.ts';
import { findIncidentView, type IncidentFilter, queryIncidents } from '../../server/incidents/queries.ts';
import type { IncidentView } from '../../server/incidents/view.ts';

export type { IncidentDetails, IncidentView } from '../../server/incidents/view.ts';

export async function listIncidents(
  { db }: { db: Db },
  filter: Omit<IncidentFilter, 'kind'> & { kind?: string } = {},
): Promise<IncidentView[]> {
  const { kind, ...rest } = filter;
  return await queryIncidents(db, { limit: 200, ...rest, ...(kind && { kind: [kind] }) });
}

export async function findIncident({ db }: { db: Db }, id: string): Promise<IncidentView | undefined> {
  return await findIncidentView(db, id);
}

export { DETECTED_KINDS, INCIDENT_KINDS } from '../../server/incidents/kinds.ts';

export const kindLabel = (kind: string) => kind.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());
