/** PURE: what a channel message names as the incident's subject, as the email's subject line does. */
import { keySuffix } from '../../format.ts';
import type { IncidentDetails, IncidentView } from '../../incidents/view.ts';

export function subjectOf(
  incident: IncidentView,
  key: { name: string; last4: string | null } | null,
): string {
  if (key) return `${key.name}${keySuffix(key.last4)}`;
  const label = (incident.details as IncidentDetails).label;
  return typeof label === 'string' ? label : (incident.key ?? 'account');
}
