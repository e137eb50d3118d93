/**
 * The seam between incidents and whoever listens (alerting): the lifecycle calls a listener inside
 * the same transaction as each incident change, so a notification is queued if and only if the
 * change is committed. Incidents never import alerts; the app wires the listener in.
 */
import type { Tx } from '../db/client.ts';
import type { IncidentRow } from '../db/schema/index.ts';

export type IncidentChange = {
  /** `woke`: a snooze ran out and the incident is open again. */
  type: 'opened' | 'updated' | 'resolved' | 'woke';
  incident: IncidentRow;
  /** The row before this change; null when opened. */
  previous: IncidentRow | null;
  at: number;
};

export type IncidentListener = (tx: Tx, change: IncidentChange) => Promise<void>;

export const ignoreIncidentChanges: IncidentListener = async () => {};
