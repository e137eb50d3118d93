/**
 * The IncidentListener of alerting: decides whether an incident change deserves an email and
 * queues it in the outbox inside the caller's transaction (so it exists iff the change commits).
 */
import { eq, sql } from 'drizzle-orm';
import type { Config } from '../config.ts';
import type { Tx } from '../db/client.ts';
import { alertNotifications, type IncidentRow } from '../db/schema/index.ts';
import type { IncidentChange, IncidentListener } from '../incidents/events.ts';
import { SEVERITY_RANK } from '../incidents/kinds.ts';
import { findKeyRow, parseDetails, toIncidentView } from '../incidents/view.ts';
import { impactOf } from './impact.ts';
import { enqueueEmail } from './outbox.ts';
import { type NotifyReason, renderIncidentEmail } from './render-incident.ts';
import { loadRouting, routeAlert } from './routing.ts';

type Notified = { notifiedImpact: number; notifiedSeverity: string };

const rank = (severity: string) => SEVERITY_RANK[severity as keyof typeof SEVERITY_RANK] ?? 0;
const threshold = (row: IncidentRow) => Number(parseDetails(row).threshold ?? 0);

/** The re-notify rule: worth telling again when severity rose or impact at least doubled since the last message. */
function outgrewLastMessage(incident: IncidentRow, last: Notified): boolean {
  const doubled = last.notifiedImpact > 0 && impactOf(incident) >= 2 * last.notifiedImpact;
  return doubled || rank(incident.severity) > rank(last.notifiedSeverity);
}

/** PURE: the reason to notify about this change, or null to stay quiet. */
export function decideNotification(change: IncidentChange, last: Notified | undefined): NotifyReason | null {
  const { incident, previous } = change;
  if (change.type === 'opened') return 'opened';
  if (change.type === 'resolved') return last ? 'resolved' : null;
  // A snooze that ran out is news only if the incident outgrew what people were last told.
  if (change.type === 'woke') return last && outgrewLastMessage(incident, last) ? 'woke' : null;
  const before = last?.notifiedSeverity ?? previous?.severity ?? incident.severity;
  const crossedHigherThreshold = previous !== null && threshold(incident) > threshold(previous);
  if (rank(incident.severity) > rank(before) || crossedHigherThreshold) return 'escalated';
  if (incident.state !== 'open' || !last) return null;
  return outgrewLastMessage(incident, last) ? 'grew' : null;
}

export function createAlertListener(deps: { config: Config }): IncidentListener {
  return (tx, change) => {
    const reason = decideNotification(change, lastNotified(tx, change.incident.id));
    if (reason) notifyIncident(tx, deps.config, change.incident, reason, change.at);
  };
}

export function lastNotified(tx: Tx, incidentId: string): Notified | undefined {
  return tx.select().from(alertNotifications).where(eq(alertNotifications.incidentId, incidentId)).get();
}

/** Queues the email for `reason` to the routed recipients and remembers what was notified. */
export function notifyIncident(
  tx: Tx,
  config: Config,
  row: IncidentRow,
  reason: NotifyReason,
  now: number,
): void {
  const key = findKeyRow(tx, row.keyId);
  const details = parseDetails(row);
  const environment =
    key?.environment ?? (details.scope === 'environment' ? String(details.target ?? '') : null);
  const to = routeAlert(loadRouting(tx, config), { kind: row.kind, severity: row.severity, environment });
  const state = { notifiedImpact: impactOf(row), notifiedSeverity: row.severity, lastNotifiedAt: now };
  tx.insert(alertNotifications)
    .values({ incidentId: row.id, count: 1, ...state })
    .onConflictDoUpdate({
      target: alertNotifications.incidentId,
      set: { ...state, count: sql`${alertNotifications.count} + 1` },
    })
    .run();
  if (to.length === 0) return;
  const email = renderIncidentEmail({
    incident: toIncidentView(row, key?.name ?? null),
    key: key ? { name: key.name, last4: key.last4, environment: key.environment } : null,
    reason,
    publicUrl: config.publicUrl,
    timeZone: config.timeZone,
  });
  enqueueEmail(tx, {
    ...email,
    to,
    category: 'incident',
    incidentId: row.id,
    now,
    domain: mailDomain(config),
  });
}

export function mailDomain(config: Config): string {
  try {
    return new URL(config.publicUrl).hostname || 'keywatch.local';
  } catch {
    return 'keywatch.local';
  }
}
