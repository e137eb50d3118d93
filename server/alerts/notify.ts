/**
 * The IncidentListener of alerting: decides whether an incident change deserves a message and
 * queues it, once per channel (email, webhook, Slack, PagerDuty), in the outbox inside the caller's transaction (so it exists iff the change commits).
 */
import { eq, sql } from 'drizzle-orm';
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { Tx } from '../db/client.ts';
import { alertNotifications, type IncidentRow } from '../db/schema/index.ts';
import type { IncidentChange, IncidentListener } from '../incidents/events.ts';
import { SEVERITY_RANK } from '../incidents/kinds.ts';
import { findKeyRow, parseDetails, toIncidentView } from '../incidents/view.ts';
import { channelTakes, configuredChannels, type HttpChannel, renderChannelBody } from './channels/index.ts';
import { impactOf } from './impact.ts';
import { enqueueEmail, findPendingMessage, replacePendingMessage } from './outbox.ts';
import { type NotifyReason, type RenderedEmail, renderIncidentEmail } from './render-incident.ts';
import { loadRouting, routeAlert } from './routing.ts';

type Notified = {
  notifiedImpact: number;
  notifiedSeverity: string;
  count: number;
  lastNotifiedAt: number;
  silenced: string | null;
};

export type NotifyPolicy = {
  /** Wall-clock now: how old an incident's last activity is when it is judged. */
  now: number;
  repeatMs: number;
  lookbackMs: number;
};

/** What to do about a change: send a message for `reason`, record it silently (and why), or nothing. */
export type Decision =
  /** A message; an escalation inside the repeat window waits until `notBefore` (data time). */
  { send: NotifyReason; notBefore?: number } | { silence: 'too_old' | 'below_floor' } | null;

const rank = (severity: string) => SEVERITY_RANK[severity as keyof typeof SEVERITY_RANK] ?? 0;
const threshold = (row: IncidentRow) => Number(parseDetails(row).threshold ?? 0);

/** The re-notify rule: worth telling again when severity rose or impact at least doubled since the last message. */
function outgrewLastMessage(incident: IncidentRow, last: Notified): boolean {
  const doubled = last.notifiedImpact > 0 && impactOf(incident) >= 2 * last.notifiedImpact;
  return doubled || rank(incident.severity) > rank(last.notifiedSeverity);
}

/** First message about an incident no one was told of yet, unless it is too old or too small to page. */
function firstMessage(incident: IncidentRow, policy: NotifyPolicy): NonNullable<Decision> {
  if (incident.lastSeenAt < policy.now - policy.lookbackMs) return { silence: 'too_old' };
  if (parseDetails(incident).pages === false) return { silence: 'below_floor' };
  return { send: 'opened' };
}

/** PURE: what this change deserves, given what people were last told. */
export function decideNotification(
  change: IncidentChange,
  last: Notified | undefined,
  policy: NotifyPolicy,
): Decision {
  const { incident, previous } = change;
  const told = last !== undefined && last.count > 0;
  if (change.type === 'resolved') return told ? { send: 'resolved' } : null;
  if (!told) {
    // Nobody heard of it yet: it may have grown into something worth paging, or come back to life.
    if (change.type !== 'opened' && incident.state !== 'open') return null;
    const first = firstMessage(incident, policy);
    // Already recorded silently for the same reason: nothing new to record.
    if ('silence' in first && last?.silenced === first.silence) return null;
    return first;
  }
  // A snooze that ran out is news only if the incident outgrew what people were last told.
  if (change.type === 'woke') return outgrewLastMessage(incident, last) ? { send: 'woke' } : null;
  const rose = rank(incident.severity) > rank(last.notifiedSeverity);
  const crossedHigherThreshold = previous !== null && threshold(incident) > threshold(previous);
  const reason: NotifyReason | null =
    rose || crossedHigherThreshold
      ? 'escalated'
      : incident.state === 'open' && outgrewLastMessage(incident, last)
        ? 'grew'
        : null;
  if (!reason) return null;
  // At most one escalation per repeat window: a later one waits for the window to end (never lost).
  const notBefore = last.lastNotifiedAt + policy.repeatMs;
  return change.at < notBefore ? { send: reason, notBefore } : { send: reason };
}

export function createAlertListener(deps: { config: Config; clock: Clock }): IncidentListener {
  return async (tx, change) => {
    const policy = {
      now: deps.clock.now(),
      repeatMs: deps.config.alertRepeatMs,
      lookbackMs: deps.config.alertLookbackMs,
    };
    const decision = decideNotification(change, await lastNotified(tx, change.incident.id), policy);
    if (decision && 'silence' in decision)
      await recordSilenced(tx, change.incident, decision.silence, change.at);
    else if (decision)
      await notifyIncident(tx, deps.config, change.incident, decision.send, change.at, decision.notBefore);
    // A message not sent yet always carries the incident's latest state.
    else await refreshPendingMessage(tx, deps.config, change.incident);
  };
}

export async function lastNotified(tx: Tx, incidentId: string): Promise<Notified | undefined> {
  return (
    await tx.select().from(alertNotifications).where(eq(alertNotifications.incidentId, incidentId)).limit(1)
  )[0];
}

/** Remembers that an incident was recorded without paging (the digest counts these). */
async function recordSilenced(tx: Tx, row: IncidentRow, why: string, at: number): Promise<void> {
  const values = { notifiedImpact: 0, notifiedSeverity: row.severity, lastNotifiedAt: at, silenced: why };
  await tx
    .insert(alertNotifications)
    .values({ incidentId: row.id, count: 0, ...values })
    .onConflictDoUpdate({ target: alertNotifications.incidentId, set: values });
}

/** What every channel's message about an incident is rendered from. */
async function composeContext(tx: Tx, config: Config, row: IncidentRow) {
  const key = await findKeyRow(tx, row.keyId);
  const details = parseDetails(row);
  const environment =
    key?.environment ?? (details.scope === 'environment' ? String(details.target ?? '') : null);
  return {
    routing: await loadRouting(tx, config),
    alert: { kind: row.kind, severity: row.severity, environment },
    incident: toIncidentView(row, key?.name ?? null),
    key: key ? { name: key.name, last4: key.last4, environment: key.environment } : null,
  };
}

type Context = Awaited<ReturnType<typeof composeContext>>;
type Channel = 'email' | HttpChannel;
type Composed = RenderedEmail & { to: string[] };

/** The message on `channel` for `reason`, or null when routing sends this incident nowhere there. */
function composeFor(config: Config, ctx: Context, channel: Channel, reason: NotifyReason): Composed | null {
  const input = { incident: ctx.incident, key: ctx.key, reason, publicUrl: config.publicUrl };
  const email = renderIncidentEmail({ ...input, timeZone: config.timeZone });
  if (channel === 'email') {
    const to = routeAlert(ctx.routing, ctx.alert);
    return to.length > 0 ? { ...email, to } : null;
  }
  if (!channelTakes(channel, ctx.routing, ctx.alert)) return null;
  // The row keeps the email's subject as its human summary in deliveries; the body is the JSON.
  return { subject: email.subject, text: renderChannelBody(channel, input), html: '', to: [channel] };
}

const channelsOf = (config: Config): Channel[] => ['email', ...configuredChannels(config)];

const URGENT: ReadonlySet<NotifyReason> = new Set(['opened', 'resolved', 'opened_resolved']);

/**
 * Queues the message for `reason` on every channel routing sends it to, and remembers what was
 * notified. One unsent message per incident and channel: a newer state is merged into it, not
 * queued beside it. `at` is the data time of the change; `notBefore` delays an escalation to the
 * end of its window.
 */
export async function notifyIncident(
  tx: Tx,
  config: Config,
  row: IncidentRow,
  reason: NotifyReason,
  at: number,
  notBefore?: number,
): Promise<void> {
  const channels = channelsOf(config);
  const pendings = await pendingMessages(tx, row.id, channels);
  const sendAt = notBefore ?? at;
  const state = {
    notifiedImpact: impactOf(row),
    notifiedSeverity: row.severity,
    lastNotifiedAt: sendAt,
    silenced: null,
  };
  // A change merged into messages not sent yet is not one more message people will get.
  const merging = pendings.some(Boolean);
  await tx
    .insert(alertNotifications)
    .values({ incidentId: row.id, count: 1, ...state })
    .onConflictDoUpdate({
      target: alertNotifications.incidentId,
      set: { ...state, count: sql`${alertNotifications.count} + ${merging ? 0 : 1}` },
    });
  const ctx = await composeContext(tx, config, row);
  for (const [i, channel] of channels.entries()) {
    const pending = pendings[i];
    const merged = pending ? mergeReasons(pending.reason as NotifyReason | null, reason) : reason;
    const message = composeFor(config, ctx, channel, merged);
    if (!message) continue;
    if (pending) {
      // An opening or a resolution goes out at once; an escalation keeps to its window.
      const due = URGENT.has(merged)
        ? Math.min(pending.nextAttemptAt, at)
        : Math.max(pending.nextAttemptAt, sendAt);
      await replacePendingMessage(tx, pending.id, { ...message, reason: merged, nextAttemptAt: due });
      continue;
    }
    await enqueueEmail(tx, {
      ...message,
      channel,
      category: 'incident',
      incidentId: row.id,
      reason: merged,
      now: at,
      nextAttemptAt: sendAt,
      domain: mailDomain(config),
    });
  }
}

/** Re-renders an incident's unsent messages with its latest numbers (same reason, same time). */
async function refreshPendingMessage(tx: Tx, config: Config, row: IncidentRow): Promise<void> {
  const channels = channelsOf(config);
  const pendings = await pendingMessages(tx, row.id, channels);
  if (!pendings.some((p) => p?.reason)) return;
  // What people will be told is what the next "doubled" is measured from.
  await tx
    .update(alertNotifications)
    .set({ notifiedImpact: impactOf(row), notifiedSeverity: row.severity })
    .where(eq(alertNotifications.incidentId, row.id));
  const ctx = await composeContext(tx, config, row);
  for (const [i, channel] of channels.entries()) {
    const pending = pendings[i];
    if (!pending?.reason) continue;
    const message = composeFor(config, ctx, channel, pending.reason as NotifyReason);
    if (message)
      await replacePendingMessage(tx, pending.id, {
        ...message,
        reason: pending.reason,
        nextAttemptAt: pending.nextAttemptAt,
      });
  }
}

/** Each channel's unsent message for the incident, in the channels' order (one query at a time). */
async function pendingMessages(tx: Tx, incidentId: string, channels: readonly Channel[]) {
  const found = [];
  for (const channel of channels) found.push(await findPendingMessage(tx, incidentId, channel));
  return found;
}

/**
 * PURE: one message that says what two would have: an opening that resolved before its message
 * went out is one "opened and resolved" message; otherwise the later reason wins, an escalation
 * over mere growth.
 */
export function mergeReasons(pending: NotifyReason | null, next: NotifyReason): NotifyReason {
  if (pending === 'opened' || pending === 'opened_resolved')
    return next === 'resolved' ? 'opened_resolved' : 'opened';
  if (next === 'grew' && pending === 'escalated') return 'escalated';
  return next;
}

export function mailDomain(config: Config): string {
  try {
    return new URL(config.publicUrl).hostname || 'keywatch.local';
  } catch {
    return 'keywatch.local';
  }
}
