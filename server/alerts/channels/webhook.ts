/** The generic webhook channel: a signed JSON POST of the incident as the API shows it. */
import { createHmac } from 'node:crypto';
import type { IncidentView } from '../../incidents/view.ts';
import type { NotifyReason } from '../render-incident.ts';
import { type Fetch, postJson } from './http.ts';

export type WebhookEvent = 'incident.opened' | 'incident.escalated' | 'incident.resolved';

/** Growth and a snooze that ran out are escalations; an incident already over is a resolution. */
export const WEBHOOK_EVENTS: Record<NotifyReason, WebhookEvent> = {
  opened: 'incident.opened',
  escalated: 'incident.escalated',
  grew: 'incident.escalated',
  woke: 'incident.escalated',
  resolved: 'incident.resolved',
  opened_resolved: 'incident.resolved',
};

/** PURE: the body, `{"event", "incident"}`. */
export function renderWebhookBody(incident: IncidentView, reason: NotifyReason): string {
  return JSON.stringify({ event: WEBHOOK_EVENTS[reason], incident });
}

/** PURE: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. */
export function signWebhook(secret: string, unixSeconds: number, body: string): string {
  const v1 = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${v1}`;
}

/** Signed at send time, so a retry carries a fresh timestamp over the same body. */
export function sendWebhook(
  fetchFn: Fetch,
  target: { url: string; secret: string },
  body: string,
  now: number,
): Promise<void> {
  const signature = signWebhook(target.secret, Math.floor(now / 1000), body);
  return postJson(fetchFn, target.url, body, { 'keywatch-signature': signature });
}
