/** How alerting weighs incidents: severity order, security vs budget kinds, impact for re-notifying. */
import type { IncidentRow } from '../db/schema/index.ts';
import { parseDetails } from './view.ts';

export const SEVERITY_RANK = { info: 0, warning: 1, critical: 2 } as const;

/** Kinds measured in something other than credits (when details.unit does not say). */
const COUNT_KINDS = new Set(['auth_failures', 'new_source', 'discovered_key']);

/** The size of an incident used for "re-notify when it doubles". */
export function impactOf(row: IncidentRow): number {
  const unit = parseDetails(row).unit;
  // Findings counted in requests, failures or sources grow by what was observed, not by credits.
  const byCount = unit ? unit !== 'credits' : COUNT_KINDS.has(row.kind);
  return byCount ? row.observed : row.impactCredits;
}
