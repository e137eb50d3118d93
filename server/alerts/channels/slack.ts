/** The Slack channel: an incoming-webhook message, `text` for notifications and Block Kit `blocks`. */
import { formatNumber } from '../../format.ts';
import type { IncidentView } from '../../incidents/view.ts';
import { incidentUrl } from '../render-html.ts';
import { describeImpact, kindTitle, type NotifyReason } from '../render-incident.ts';
import { type Fetch, postJson } from './http.ts';
import { subjectOf } from './subject.ts';

export type SlackInput = {
  incident: IncidentView;
  key: { name: string; last4: string | null; environment: string | null } | null;
  reason: NotifyReason;
  publicUrl: string;
};

const HEADINGS: Record<NotifyReason, string> = {
  opened: 'opened',
  escalated: 'escalated',
  grew: 'impact doubled',
  woke: 'still active after snooze',
  resolved: 'resolved',
  opened_resolved: 'opened and already resolved',
};

/** Slack's mrkdwn treats these three as control characters; names come from users and traffic. */
const escapeMrkdwn = (s: string) =>
  s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
const clip = (s: string, max: number) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

/** PURE: the JSON body: severity, key, impact and the incident's link, in `text` and in `blocks`. */
export function renderSlackBody(input: SlackInput): string {
  const { incident, key, reason } = input;
  const link = incidentUrl(input.publicUrl, incident.id);
  const keyName = subjectOf(incident, key);
  const impact = describeImpact(incident);
  const severity = incident.severity.toUpperCase();
  const title = `${severity} ${kindTitle(incident.kind)} on ${keyName}: ${HEADINGS[reason]}`;
  const credits =
    incident.impact_credits > 0 ? ` (impact ${formatNumber(incident.impact_credits)} credits)` : '';
  const fields = [
    `*Severity*\n${severity}`,
    `*Key*\n${escapeMrkdwn(keyName)}`,
    `*Impact*\n${escapeMrkdwn(impact)}${credits}`,
    ...(key?.environment ? [`*Environment*\n${escapeMrkdwn(key.environment)}`] : []),
  ];
  return JSON.stringify({
    text: clip(`[Keywatch] ${title}. ${impact}${credits}. ${link}`, 3000),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: clip(`[Keywatch] ${title}`, 150) } },
      { type: 'section', fields: fields.map((text) => ({ type: 'mrkdwn', text: clip(text, 2000) })) },
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: clip(`${escapeMrkdwn(incident.summary)}\n<${link}|Open the incident>`, 3000),
        },
      },
      {
        type: 'actions',
        elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open incident' }, url: link }],
      },
    ],
  });
}

export function sendSlack(fetchFn: Fetch, target: { url: string }, body: string): Promise<void> {
  return postJson(fetchFn, target.url, body);
}
