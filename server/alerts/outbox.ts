/**
 * The durable outbox: messages (email, and the webhook, Slack and PagerDuty channels) are rows written in the caller's transaction, claimed by the sender
 * (pending -> sending in a transaction, so two senders never take the same row), then marked
 * sent, or put back with exponential backoff, or failed after MAX_ATTEMPTS.
 */
import { randomUUID } from 'node:crypto';
import { and, asc, desc, eq, gte, inArray, lte, sql } from 'drizzle-orm';
import type { Db, Queryable } from '../db/client.ts';
import { alertOutbox, type OutboxRow } from '../db/schema/index.ts';
import { changedRows, transaction } from '../db/transaction.ts';
import { isoOrNull } from '../timestamps.ts';
import type { RenderedEmail } from './render-incident.ts';

/** ~1 day of retrying with the backoff below before a message is given up as failed. */
export const MAX_ATTEMPTS = 30;
const FIRST_BACKOFF_MS = 30_000;
const MAX_BACKOFF_MS = 60 * 60_000;
/** A row left in `sending` this long belongs to a sender that died mid-send: retry it. */
export const STALE_SENDING_MS = 10 * 60_000;

export function backoffMs(attempts: number): number {
  return Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** Math.max(0, attempts - 1));
}

export async function enqueueEmail(
  db: Queryable,
  email: RenderedEmail & {
    to: string[];
    category: OutboxRow['category'];
    incidentId?: string | null;
    reason?: string;
    /** 'email' (default), or an HTTP channel whose JSON body is in `text` and `to` its name. */
    channel?: string;
    now: number;
    /** When it may first be sent (default `now`). */
    nextAttemptAt?: number;
    domain: string;
  },
): Promise<OutboxRow> {
  return (
    await db
      .insert(alertOutbox)
      .values({
        messageId: `<${randomUUID()}@${email.domain}>`,
        category: email.category,
        channel: email.channel ?? 'email',
        incidentId: email.incidentId ?? null,
        reason: email.reason ?? null,
        recipients: email.to.join(', '),
        subject: email.subject,
        text: email.text,
        html: email.html,
        status: 'pending',
        nextAttemptAt: email.nextAttemptAt ?? email.now,
        createdAt: email.now,
      })
      .returning()
  )[0]!;
}

/** An incident's message on `channel` that no sender has tried yet, if any. */
export async function findPendingMessage(
  db: Queryable,
  incidentId: string,
  channel: string,
): Promise<OutboxRow | undefined> {
  return (
    await db
      .select()
      .from(alertOutbox)
      .where(
        and(
          eq(alertOutbox.incidentId, incidentId),
          eq(alertOutbox.channel, channel),
          eq(alertOutbox.status, 'pending'),
          eq(alertOutbox.attempts, 0),
        ),
      )
      .limit(1)
  )[0];
}

/** Rewrites an untried message with a newer state; it keeps its id, Message-ID and place in the queue. */
export async function replacePendingMessage(
  db: Queryable,
  id: number,
  email: RenderedEmail & { to: string[]; reason: string; nextAttemptAt: number },
): Promise<void> {
  await db
    .update(alertOutbox)
    .set({
      recipients: email.to.join(', '),
      subject: email.subject,
      text: email.text,
      html: email.html,
      reason: email.reason,
      nextAttemptAt: email.nextAttemptAt,
    })
    .where(and(eq(alertOutbox.id, id), eq(alertOutbox.status, 'pending'), eq(alertOutbox.attempts, 0)));
}

/**
 * Claims up to `limit` due rows on `channels` for sending (counting the attempt); they are ours
 * until marked. Messages about one incident on one channel go out in order: a row waits while an
 * older one is unsent (a PagerDuty resolve must not overtake its trigger).
 */
export async function claimDue(
  db: Db,
  now: number,
  limit = 20,
  channels: readonly string[] = ['email'],
): Promise<OutboxRow[]> {
  if (channels.length === 0) return [];
  return await transaction(db, async (tx) => {
    await tx
      .update(alertOutbox)
      .set({ status: 'pending' })
      .where(and(eq(alertOutbox.status, 'sending'), lte(alertOutbox.lastAttemptAt, now - STALE_SENDING_MS)));
    const due = (
      await tx
        .select({ id: alertOutbox.id })
        .from(alertOutbox)
        .where(
          and(
            eq(alertOutbox.status, 'pending'),
            lte(alertOutbox.nextAttemptAt, now),
            inArray(alertOutbox.channel, [...channels]),
            sql.raw(`not exists (select 1 from alert_outbox older
            where older.incident_id = alert_outbox.incident_id and older.channel = alert_outbox.channel
            and older.id < alert_outbox.id and older.status in ('pending', 'sending'))`),
          ),
        )
        .orderBy(asc(alertOutbox.nextAttemptAt), asc(alertOutbox.id))
        .limit(limit)
    ).map((r) => r.id);
    if (due.length === 0) return [];
    return await tx
      .update(alertOutbox)
      .set({ status: 'sending', lastAttemptAt: now, attempts: sql`${alertOutbox.attempts} + 1` })
      .where(and(inArray(alertOutbox.id, due), eq(alertOutbox.status, 'pending')))
      .returning();
  });
}

export async function markSent(db: Db, id: number, now: number): Promise<void> {
  await db
    .update(alertOutbox)
    .set({ status: 'sent', sentAt: now, lastError: null })
    .where(and(eq(alertOutbox.id, id), eq(alertOutbox.status, 'sending')));
}

export async function markAttemptFailed(db: Db, row: OutboxRow, now: number, error: string): Promise<void> {
  const attempts = row.attempts;
  const gaveUp = attempts >= MAX_ATTEMPTS;
  await db
    .update(alertOutbox)
    .set({
      status: gaveUp ? 'failed' : 'pending',
      nextAttemptAt: now + backoffMs(attempts),
      lastError: error.slice(0, 500),
    })
    .where(and(eq(alertOutbox.id, row.id), eq(alertOutbox.status, 'sending')));
}

/** A delivery the endpoint refused for good (a 4xx other than 429): no retry, the error kept. */
export async function markFailed(db: Db, id: number, error: string): Promise<void> {
  await db
    .update(alertOutbox)
    .set({ status: 'failed', lastError: error.slice(0, 500) })
    .where(and(eq(alertOutbox.id, id), eq(alertOutbox.status, 'sending')));
}

export function toDeliveryView(row: OutboxRow) {
  return {
    id: row.id,
    channel: row.channel,
    created_at: isoOrNull(row.createdAt),
    // An HTTP channel's row names the channel, never its URL or key.
    to: row.channel === 'email' ? row.recipients.split(', ').filter(Boolean) : [],
    subject: row.subject,
    status: row.status === 'sending' ? ('pending' as const) : row.status,
    attempts: row.attempts,
    last_error: row.lastError,
    sent_at: isoOrNull(row.sentAt),
    incident_id: row.incidentId,
  };
}

/** Recent deliveries, newest first, and whether delivery is failing repeatedly right now. */
export async function listDeliveries(db: Db, now: number, limit = 100) {
  const rows = await db.select().from(alertOutbox).orderBy(desc(alertOutbox.id)).limit(limit);
  const recentFailures = await db
    .select({ id: alertOutbox.id })
    .from(alertOutbox)
    .where(and(eq(alertOutbox.status, 'failed'), gte(alertOutbox.lastAttemptAt, now - 24 * 3_600_000)))
    .limit(1);
  const retrying = await db
    .select({ id: alertOutbox.id })
    .from(alertOutbox)
    .where(and(inArray(alertOutbox.status, ['pending', 'sending']), gte(alertOutbox.attempts, 3)))
    .limit(1);
  return {
    deliveries: rows.map(toDeliveryView),
    failing: recentFailures.length > 0 || retrying.length > 0,
  };
}

/** How long sent and failed messages stay visible in deliveries. */
export const KEEP_DELIVERIES_MS = 90 * 24 * 3_600_000;

export async function pruneOutbox(db: Db, now: number): Promise<number> {
  return changedRows(
    await db
      .delete(alertOutbox)
      .where(
        and(
          inArray(alertOutbox.status, ['sent', 'failed']),
          lte(alertOutbox.createdAt, now - KEEP_DELIVERIES_MS),
        ),
      ),
  );
}
