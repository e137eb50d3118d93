/**
 * The PagerDuty channel: Events API v2, one alert per incident (`dedup_key` = incident id),
 * triggered on opened/escalated/grew/woke and resolved on resolved. An incident that opened and
 * resolved before its page went out sends only the resolve: nobody is woken for something over
 * (PagerDuty ignores a resolve for an alert it never had; email, Slack and the webhook still tell).
 */
import type { IncidentView } from '../../incidents/view.ts';
import { incidentUrl } from '../render-html.ts';
import { describeImpact, kindTitle, type NotifyReason } from '../render-incident.ts';
import { type Fetch, postJson } from './http.ts';
import { subjectOf } from './subject.ts';

export type PagerDutyInput = {
  incident: IncidentView;
  key: { name: string; last4: string | null; environment: string | null } | null;
  reason: NotifyReason;
  publicUrl: string;
};

export const PAGERDUTY_ACTIONS: Record<NotifyReason, 'trigger' | 'resolve'> = {
  opened: 'trigger',
  escalated: 'trigger',
  grew: 'trigger',
  woke: 'trigger',
  resolved: 'resolve',
  opened_resolved: 'resolve',
};

/** Keywatch's severities are a subset of PagerDuty's (critical, error, warning, info). */
const SEVERITIES = { critical: 'critical', warning: 'warning', info: 'info' } as const;

/**
 * PURE: the event without `routing_key`; the sender adds it, so the key is never stored in the
 * outbox nor shown in deliveries.
 */
export function renderPagerDutyBody(input: PagerDutyInput): string {
  const { incident, key, reason } = input;
  const action = PAGERDUTY_ACTIONS[reason];
  if (action === 'resolve') return JSON.stringify({ event_action: 'resolve', dedup_key: incident.id });
  const keyName = subjectOf(incident, key);
  const link = incidentUrl(input.publicUrl, incident.id);
  return JSON.stringify({
    event_action: 'trigger',
    dedup_key: incident.id,
    payload: {
      summary: `${kindTitle(incident.kind)} on ${keyName}: ${describeImpact(incident)}`.slice(0, 1024),
      source: keyName,
      severity: SEVERITIES[incident.severity as keyof typeof SEVERITIES] ?? 'warning',
      component: key?.environment ?? undefined,
      timestamp: incident.last_seen_at,
      class: incident.kind,
      group: 'keywatch',
      custom_details: {
        summary: incident.summary,
        observed: incident.observed,
        expected: incident.expected,
        impact_credits: incident.impact_credits,
        started_at: incident.started_at,
        last_seen_at: incident.last_seen_at,
        reason,
      },
    },
    client: 'Keywatch',
    client_url: link,
    links: [{ href: link, text: 'Open the incident in Keywatch' }],
  });
}

export function sendPagerDuty(
  fetchFn: Fetch,
  target: { routingKey: string; eventsUrl: string },
  body: string,
): Promise<void> {
  const event = { routing_key: target.routingKey, ...(JSON.parse(body) as object) };
  return postJson(fetchFn, target.eventsUrl, JSON.stringify(event));
}
