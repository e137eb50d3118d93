/**
 * The seam between detection and alerting: detection's incident writer calls a listener inside
 * the same transaction as each incident change, so a notification is queued if and only if the
 * change is committed.
 */
import type { Tx } from '../db/client.ts';
import type { IncidentRow } from '../db/schema/index.ts';

export type IncidentChange = {
  type: 'opened' | 'updated' | 'resolved';
  incident: IncidentRow;
  /** The row before this change; null when opened. */
  previous: IncidentRow | null;
  at: number;
};

export type IncidentListener = (tx: Tx, change: IncidentChange) => void;

export const ignoreIncidentChanges: IncidentListener = () => {};
