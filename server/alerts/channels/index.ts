/**
 * The alert channels besides email: which are configured, which an incident goes to (routing), the
 * body each stores in the outbox (PURE renderers), and how each one sends it.
 */
import type { Config } from '../../config.ts';
import { isSecurityKind } from '../../incidents/kinds.ts';
import type { IncidentView } from '../../incidents/view.ts';
import type { NotifyReason } from '../render-incident.ts';
import { type Routing, routeAllows } from '../routing.ts';
import type { Fetch } from './http.ts';
import { renderPagerDutyBody, sendPagerDuty } from './pagerduty.ts';
import { renderSlackBody, sendSlack } from './slack.ts';
import { renderWebhookBody, sendWebhook } from './webhook.ts';

export const HTTP_CHANNELS = ['webhook', 'slack', 'pagerduty'] as const;
export type HttpChannel = (typeof HTTP_CHANNELS)[number];

export const isHttpChannel = (channel: string): channel is HttpChannel =>
  (HTTP_CHANNELS as readonly string[]).includes(channel);

export function configuredChannels(config: Config): HttpChannel[] {
  return HTTP_CHANNELS.filter((c) => config.channels[c] !== undefined);
}

/**
 * PURE: whether an incident goes to `channel`. Webhook and Slack take every kind the routing lets
 * through (its minimum severity and per-environment mutes); PagerDuty pages for security kinds
 * only: a budget is billing's business, not a reason to wake on-call.
 */
export function channelTakes(
  channel: HttpChannel,
  routing: Routing,
  alert: { kind: string; severity: IncidentView['severity']; environment: string | null },
): boolean {
  if (!routeAllows(routing, alert)) return false;
  return channel !== 'pagerduty' || isSecurityKind(alert.kind);
}

export type ChannelInput = {
  incident: IncidentView;
  key: { name: string; last4: string | null; environment: string | null } | null;
  reason: NotifyReason;
  publicUrl: string;
};

/** PURE: the JSON body stored in the outbox row (signatures and routing keys are added at send time). */
export function renderChannelBody(channel: HttpChannel, input: ChannelInput): string {
  if (channel === 'webhook') return renderWebhookBody(input.incident, input.reason);
  if (channel === 'slack') return renderSlackBody(input);
  return renderPagerDutyBody(input);
}

/** Sends a stored body; throws DeliveryError (from ./http.ts) when the endpoint did not take it. */
export function sendChannelBody(
  channel: HttpChannel,
  config: Config,
  fetchFn: Fetch,
  body: string,
  now: number,
): Promise<void> {
  const { webhook, slack, pagerduty } = config.channels;
  if (channel === 'webhook' && webhook) return sendWebhook(fetchFn, webhook, body, now);
  if (channel === 'slack' && slack) return sendSlack(fetchFn, slack, body);
  if (channel === 'pagerduty' && pagerduty) return sendPagerDuty(fetchFn, pagerduty, body);
  return Promise.reject(new Error(`channel ${channel} is not configured`));
}
