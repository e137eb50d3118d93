/**
 * What people do to an incident (acknowledge, snooze, resolve, give feedback) and the snooze
 * expiry job's verb. Each validates its input, goes through the lifecycle and is audited.
 */
import { z } from 'zod';
import { writeAudit } from '../audit/write.ts';
import { DAY, MINUTE } from '../clock.ts';
import type { Tx } from '../db/client.ts';
import { detectionAdjustments, type IncidentRow } from '../db/schema/index.ts';
import { transaction } from '../db/transaction.ts';
import type { Deps } from '../deps.ts';
import { conflict, issuesFromZod, notFound, validationError } from '../errors.ts';
import { iso, TimestampSchema } from '../timestamps.ts';
import type { IncidentListener } from './events.ts';
import * as lifecycle from './lifecycle.ts';
import { type IncidentView, viewIncident } from './view.ts';

const Note = z.string().trim().min(1).max(2000);
export const AckSchema = z.strictObject({ note: Note.optional() });
export const ResolveSchema = AckSchema;
export const SnoozeSchema = z
  .strictObject({
    until: TimestampSchema.optional(),
    minutes: z
      .number()
      .int()
      .min(1)
      .max(30 * 24 * 60)
      .optional(),
    note: Note.optional(),
  })
  .refine((s) => (s.until === undefined) !== (s.minutes === undefined), {
    message: 'give either until or minutes',
  });
export const FEEDBACK = ['false_positive', 'expected', 'new_normal'] as const;
export const FeedbackSchema = z.strictObject({
  feedback: z.enum(FEEDBACK),
  note: Note.optional(),
  until: TimestampSchema.optional(),
});

/** How long a false positive makes that pattern less sensitive, and by how much. */
const DESENSITIZE_DAYS = 14;
const DESENSITIZE_FACTOR = 2;
const MAX_SNOOZE_MS = 30 * DAY;

function parse<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const parsed = schema.safeParse(input ?? {});
  if (!parsed.success) throw validationError(issuesFromZod(parsed.error.issues));
  return parsed.data;
}

export type ActionDeps = Pick<Deps, 'db' | 'clock'> & { listener: IncidentListener };

/** Runs `change` on an incident in one transaction, with its audit entry. */
async function act(
  deps: ActionDeps,
  id: string,
  action: string,
  actor: string,
  change: (tx: Tx, row: IncidentRow, now: number) => Promise<IncidentRow | undefined>,
  details: Record<string, unknown>,
): Promise<IncidentView> {
  const now = deps.clock.now();
  return await transaction(deps.db, async (tx) => {
    const row = await lifecycle.findIncidentRow(tx, id);
    if (!row) throw notFound(`Incident ${JSON.stringify(id)}`);
    if (row.state === 'resolved' && action !== 'incident.feedback') {
      throw conflict('The incident is already resolved.');
    }
    const saved = (await change(tx, row, now)) ?? row;
    await writeAudit(tx, { ts: now, actor, action, target: id, details });
    return await viewIncident(tx, saved);
  });
}

export async function acknowledgeIncident(deps: ActionDeps, id: string, input: unknown, actor: string) {
  const data = parse(AckSchema, input);
  return await act(
    deps,
    id,
    'incident.ack',
    actor,
    (tx, _row, now) => lifecycle.acknowledgeIncident(tx, id, { actor, now, ...data }),
    data,
  );
}

export async function snoozeIncident(deps: ActionDeps, id: string, input: unknown, actor: string) {
  const data = parse(SnoozeSchema, input);
  const now = deps.clock.now();
  const until = data.until ?? now + data.minutes! * MINUTE;
  if (until <= now) throw validationError([{ path: 'until', message: 'must be in the future' }]);
  if (until > now + MAX_SNOOZE_MS)
    throw validationError([{ path: 'until', message: 'at most 30 days ahead' }]);
  return await act(
    deps,
    id,
    'incident.snooze',
    actor,
    (tx) => lifecycle.snoozeIncident(tx, id, { until, now, ...(data.note && { note: data.note }) }),
    { until: iso(until), ...(data.note && { note: data.note }) },
  );
}

/** Resolved by hand: whoever was told it opened is told it closed (the listener decides). */
export async function resolveIncident(deps: ActionDeps, id: string, input: unknown, actor: string) {
  const data = parse(ResolveSchema, input);
  return await act(
    deps,
    id,
    'incident.resolve',
    actor,
    (tx, _row, now) => lifecycle.resolveIncident(tx, deps.listener, id, { at: now, now, ...data }),
    data,
  );
}

/**
 * Feedback is recorded on the incident and, as a `detection_adjustments` row, read by detection:
 * false_positive makes that pattern less sensitive, new_normal rebaselines, expected suppresses.
 */
export async function giveFeedback(deps: ActionDeps, id: string, input: unknown, actor: string) {
  const data = parse(FeedbackSchema, input);
  return await act(
    deps,
    id,
    'incident.feedback',
    actor,
    async (tx, row, now) => {
      if (data.feedback === 'expected' && data.until !== undefined && data.until <= row.startedAt) {
        throw validationError([{ path: 'until', message: 'must be after the incident started' }]);
      }
      const adjustment = {
        false_positive: {
          type: 'desensitize' as const,
          kind: row.kind,
          from: now,
          until: now + DESENSITIZE_DAYS * DAY,
          factor: DESENSITIZE_FACTOR,
        },
        new_normal: { type: 'rebaseline' as const, kind: null, from: now, until: null, factor: null },
        // Planned activity: suppress from the incident's start until the given end (default now).
        expected: {
          type: 'suppress' as const,
          kind: null,
          from: row.startedAt,
          until: data.until ?? now,
          factor: null,
        },
      }[data.feedback];
      await tx
        .insert(detectionAdjustments)
        .values({ ...adjustment, keyId: row.keyId, incidentId: row.id, createdBy: actor, createdAt: now });
      return await lifecycle.recordFeedback(tx, id, {
        feedback: data.feedback,
        now,
        ...(data.note && { note: data.note }),
      });
    },
    {
      feedback: data.feedback,
      ...(data.note && { note: data.note }),
      ...(data.until && { until: iso(data.until) }),
    },
  );
}

/** The snooze job: incidents whose snooze ended are open again (audited as the system's doing). */
export async function wakeExpiredSnoozes(deps: ActionDeps): Promise<number> {
  const now = deps.clock.now();
  return await transaction(deps.db, async (tx) => {
    const woken = await lifecycle.wakeExpiredSnoozes(tx, deps.listener, now);
    for (const row of woken) {
      await writeAudit(tx, { ts: now, actor: 'system', action: 'incident.snooze_expired', target: row.id });
    }
    return woken.length;
  });
}
