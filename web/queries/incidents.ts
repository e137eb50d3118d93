/** Incidents for the pages: the shared queries and view, plus the kinds and labels the pages show. */
import type { Db } from '../../server/db/client.ts';
import { findIncidentView, type IncidentFilter, queryIncidents } from '../../server/incidents/queries.ts';
import type { IncidentView } from '../../server/incidents/view.ts';

export type { IncidentDetails, IncidentView } from '../../server/incidents/view.ts';

export function listIncidents(
  { db }: { db: Db },
  filter: Omit<IncidentFilter, 'kind'> & { kind?: string } = {},
): IncidentView[] {
  const { kind, ...rest } = filter;
  return queryIncidents(db, { limit: 200, ...rest, ...(kind && { kind: [kind] }) });
}

export function findIncident({ db }: { db: Db }, id: string): IncidentView | undefined {
  return findIncidentView(db, id);
}

export { DETECTED_KINDS, INCIDENT_KINDS } from '../../server/incidents/kinds.ts';

export const kindLabel = (kind: string) => kind.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());
