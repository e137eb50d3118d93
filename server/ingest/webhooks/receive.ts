/**
 * A verified webhook event: stored once per (provider, type, object id) and booked in the same
 * transaction, so an acknowledged event is never lost and a redelivery changes nothing.
 * Completion sets a project's final credits, an error refunds it, both on the key that created it;
 * a project no key created is unattributed spend.
 */
import { sql } from 'drizzle-orm';
import { execute, rows, transaction } from '../../db/transaction.ts';
import type { Deps } from '../../deps.ts';
import { validationError } from '../../errors.ts';
import { bookFinalCredits, findProject, noteOrphanProject } from '../../usage/projects.ts';
import type { ProviderWebhookEvent, WebhookAdapter } from '../providers/types.ts';

export type WebhookOutcome = 'attributed' | 'unattributed' | 'ignored';
export type ReceiveResult = { duplicate: boolean; outcome: WebhookOutcome | null };

export async function receiveWebhook(
  deps: Pick<Deps, 'db' | 'clock'>,
  provider: { id: string; webhooks: WebhookAdapter },
  rawBody: string,
  eventTs: number,
): Promise<ReceiveResult> {
  let body: unknown;
  try {
    body = JSON.parse(rawBody);
  } catch {
    throw validationError(
      [{ path: '(body)', message: 'is not valid JSON' }],
      'The webhook body is not JSON.',
    );
  }
  const event = provider.webhooks.parseEvent(body);
  if (!event) {
    throw validationError(
      [{ path: '(body)', message: 'expected {"type": string, "payload": {"id": string, ...}}' }],
      'The webhook body is not an event.',
    );
  }
  const now = deps.clock.now();
  return transaction(deps.db, async (tx): Promise<ReceiveResult> => {
    // A redelivery (or the same event arriving at another process at once) inserts nothing.
    const [inserted] = await rows<{ id: number }>(
      tx,
      sql`INSERT INTO webhook_events (provider, type, object_id, event_ts, received_at, body)
        VALUES (${provider.id}, ${event.type}, ${event.projectId}, ${eventTs}, ${now}, ${rawBody})
        ON CONFLICT DO NOTHING RETURNING id`,
    );
    if (!inserted) return { duplicate: true, outcome: null };
    const outcome = await bookEvent(tx, event, eventTs, now);
    await execute(
      tx,
      sql`UPDATE webhook_events SET processed_at = ${now}, outcome = ${outcome} WHERE id = ${inserted.id}`,
    );
    return { duplicate: false, outcome };
  });
}

async function bookEvent(
  tx: Deps['db'],
  event: ProviderWebhookEvent,
  eventTs: number,
  now: number,
): Promise<WebhookOutcome> {
  const final =
    event.outcome === 'completed' ? (event.credits ?? null) : event.outcome === 'errored' ? 0 : null;
  const known = (await findProject(tx, event.projectId))?.key_id != null;
  if (known) {
    if (final === null) return 'ignored';
    await bookFinalCredits(tx, {
      projectId: event.projectId,
      finalCredits: final,
      status: event.status,
      now,
    });
    return 'attributed';
  }
  const createdAt = event.createdAt ?? eventTs;
  await noteOrphanProject(tx, {
    id: event.projectId,
    kind: event.kind,
    status: event.status,
    createdAt,
    finalCredits: final,
    now,
  });
  if (event.outcome !== 'completed' || !final) return 'ignored';
  await execute(
    tx,
    sql`INSERT INTO unattributed_spend (ts, until, source, credits, project_id, details, created_at)
      VALUES (${createdAt}, ${createdAt}, 'webhook', ${final}, ${event.projectId},
        ${JSON.stringify({ type: event.type, status: event.status })}, ${now})`,
  );
  return 'unattributed';
}
