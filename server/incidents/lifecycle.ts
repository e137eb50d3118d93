/**
 * The incident lifecycle, and the only code that writes the `incidents` table: open, extend,
 * resolve, acknowledge, snooze (and its expiry), feedback. Whatever raises incidents (detection,
 * budgets) and whatever people do to them goes through these verbs inside the caller's
 * transaction; each change that others may care about is handed to the IncidentListener in that
 * same transaction, so alerting sees a change if and only if it commits.
 */
import { and, eq, lte, ne } from 'drizzle-orm';
import { randomId } from '../auth/secrets.ts';
import type { Queryable, Tx } from '../db/client.ts';
import { type IncidentRow, incidents } from '../db/schema/index.ts';
import type { IncidentListener } from './events.ts';
import { SEVERITY_RANK } from './kinds.ts';
import type { StoredSignal } from './signals.ts';

/** What whoever raised an incident measures; people's fields (state, ack, note) are not in it. */
export type Finding = Pick<
  IncidentRow,
  | 'kind'
  | 'severity'
  | 'lastSeenAt'
  | 'observed'
  | 'expected'
  | 'score'
  | 'impactCredits'
  | 'summary'
  | 'details'
> & { signals?: StoredSignal[] };
export type NewIncident = Finding &
  Pick<IncidentRow, 'keyId' | 'startedAt'> & {
    /** Default: the key, else the account. */
    subject?: string;
    /** Default: the data time of the change that opens it. */
    detectedAt?: number;
  };

/** `at` is the data time of the change (what a replay would say); `now` the wall clock. */
export type When = { at: number; now: number };

export async function findIncidentRow(tx: Tx, id: string): Promise<IncidentRow | undefined> {
  return (await tx.select().from(incidents).where(eq(incidents.id, id)).limit(1))[0];
}

async function save(tx: Tx, id: string, set: Partial<IncidentRow>): Promise<IncidentRow> {
  return (await tx.update(incidents).set(set).where(eq(incidents.id, id)).returning())[0]!;
}

/** A finding raised without signals (budgets, tests) is its own single signal. */
function ownSignal(f: NewIncident, detectedAt: number): StoredSignal {
  const unit = String((JSON.parse(f.details || '{}') as { unit?: string }).unit ?? 'credits');
  return {
    kind: f.kind,
    severity: f.severity,
    started_at: f.startedAt,
    detected_at: detectedAt,
    last_seen_at: f.lastSeenAt,
    observed: f.observed,
    expected: f.expected,
    score: f.score,
    impact: f.impactCredits ?? 0,
    unit,
    summary: f.summary,
  };
}

export async function openIncident(tx: Tx, listener: IncidentListener, finding: NewIncident, when: When) {
  const { signals, subject, detectedAt, ...columns } = finding;
  const detected = detectedAt ?? when.at;
  const incident = (
    await tx
      .insert(incidents)
      .values({
        id: randomId('inc_'),
        state: 'open',
        createdAt: when.now,
        updatedAt: when.now,
        ...columns,
        subject: subject ?? (finding.keyId ? `key:${finding.keyId}` : 'account'),
        detectedAt: detected,
        signals: JSON.stringify(signals ?? [ownSignal(finding, detected)]),
      })
      .returning()
  )[0]!;
  await listener(tx, { type: 'opened', incident, previous: null, at: when.at });
  return incident;
}

/**
 * New measurements on an incident that is still going. A severity that rises wakes a snoozed
 * incident early: the snooze was given for what was known then.
 */
export async function extendIncident(
  tx: Tx,
  listener: IncidentListener,
  id: string,
  finding: Partial<Finding>,
  when: When,
): Promise<IncidentRow | undefined> {
  const previous = await findIncidentRow(tx, id);
  if (!previous || previous.state === 'resolved') return undefined;
  const rose =
    finding.severity !== undefined && SEVERITY_RANK[finding.severity] > SEVERITY_RANK[previous.severity];
  const wake = rose && previous.state === 'snoozed' ? { state: 'open' as const, snoozedUntil: null } : {};
  const { signals, ...columns } = finding;
  const incident = await save(tx, id, {
    ...columns,
    ...(signals && { signals: JSON.stringify(signals) }),
    ...wake,
    updatedAt: when.now,
  });
  await listener(tx, { type: 'updated', incident, previous, at: when.at });
  return incident;
}

/** Ends an episode, automatically (back to normal, month over) or by hand (with a note). */
export async function resolveIncident(
  tx: Tx,
  listener: IncidentListener,
  id: string,
  when: When & { note?: string },
): Promise<IncidentRow | undefined> {
  const previous = await findIncidentRow(tx, id);
  if (!previous || previous.state === 'resolved') return undefined;
  const incident = await save(tx, id, {
    state: 'resolved',
    resolvedAt: when.at,
    snoozedUntil: null,
    note: when.note ?? previous.note,
    updatedAt: when.now,
  });
  await listener(tx, { type: 'resolved', incident, previous, at: when.at });
  return incident;
}

export async function acknowledgeIncident(
  tx: Tx,
  id: string,
  by: { actor: string; note?: string; now: number },
) {
  const previous = (await findIncidentRow(tx, id))!;
  return await save(tx, id, {
    state: 'acknowledged',
    acknowledgedBy: by.actor,
    acknowledgedAt: by.now,
    snoozedUntil: null,
    note: by.note ?? previous.note,
    updatedAt: by.now,
  });
}

export async function snoozeIncident(tx: Tx, id: string, by: { until: number; note?: string; now: number }) {
  const previous = (await findIncidentRow(tx, id))!;
  return await save(tx, id, {
    state: 'snoozed',
    snoozedUntil: by.until,
    note: by.note ?? previous.note,
    updatedAt: by.now,
  });
}

export async function recordFeedback(
  tx: Tx,
  id: string,
  by: { feedback: NonNullable<IncidentRow['feedback']>; note?: string; now: number },
) {
  const previous = (await findIncidentRow(tx, id))!;
  return await save(tx, id, { feedback: by.feedback, note: by.note ?? previous.note, updatedAt: by.now });
}

/** Snoozes that ran out: the incident is open again, and the listener hears it woke. */
export async function wakeExpiredSnoozes(
  tx: Tx,
  listener: IncidentListener,
  now: number,
): Promise<IncidentRow[]> {
  const due = await tx
    .select()
    .from(incidents)
    .where(and(eq(incidents.state, 'snoozed'), lte(incidents.snoozedUntil, now)));
  const woken: IncidentRow[] = [];
  for (const previous of due) {
    const incident = await save(tx, previous.id, { state: 'open', snoozedUntil: null, updatedAt: now });
    await listener(tx, { type: 'woke', incident, previous, at: now });
    woken.push(incident);
  }
  return woken;
}

/** Incidents not yet resolved, for writers that rebuild their episodes on start. */
export async function unresolvedIncidents(db: Queryable): Promise<IncidentRow[]> {
  return await db.select().from(incidents).where(ne(incidents.state, 'resolved'));
}
