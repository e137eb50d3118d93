/** The size of an incident for "re-notify when it doubles". */
import type { IncidentRow } from '../db/schema/index.ts';
import { parseDetails } from '../incidents/view.ts';

/** Kinds measured in something other than credits (when details.unit does not say). */
const COUNT_KINDS = new Set(['auth_failures', 'new_source', 'discovered_key']);

export function impactOf(row: IncidentRow): number {
  const unit = parseDetails(row).unit;
  // Findings counted in requests, failures or sources grow by what was observed, not by credits.
  const byCount = unit ? unit !== 'credits' : COUNT_KINDS.has(row.kind);
  return byCount ? row.observed : row.impactCredits;
}
