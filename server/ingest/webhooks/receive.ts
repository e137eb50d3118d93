/**
 * A verified webhook event: stored once per (provider, type, object id) and booked in the same
 * transaction, so an acknowledged event is never lost and a redelivery changes nothing.
 * Completion sets a project's final credits, an error refunds it, both on the key that created it;
 * a project no key created is unattributed spend.
 */

import { statement } from '../../db/statements.ts';
import type { Deps } from '../../deps.ts';
import { validationError } from '../../errors.ts';
import { finalizeProject, findProject, noteOrphanProject } from '../../usage/projects.ts';
import type { ProviderWebhookEvent, WebhookAdapter } from '../providers/types.ts';

export type WebhookOutcome = 'attributed' | 'unattributed' | 'ignored';
export type ReceiveResult = { duplicate: boolean; outcome: WebhookOutcome | null };

function prepare(sqlite: Deps['sqlite']) {
  return {
    insert: statement(
      sqlite,
      `INSERT INTO webhook_events (provider, type, object_id, event_ts, received_at, body)
       VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    ),
    processed: statement(sqlite, 'UPDATE webhook_events SET processed_at = ?, outcome = ? WHERE id = ?'),
    unattributed: statement(
      sqlite,
      `INSERT INTO unattributed_spend (ts, until, source, credits, project_id, details, created_at)
       VALUES (?, ?, 'webhook', ?, ?, ?, ?)`,
    ),
  };
}

export function receiveWebhook(
  deps: Pick<Deps, 'sqlite' | 'clock'>,
  provider: { id: string; webhooks: WebhookAdapter },
  rawBody: string,
  eventTs: number,
): ReceiveResult {
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
  // statement() caches each per connection, so building this object is cheap.
  const s = prepare(deps.sqlite);
  const now = deps.clock.now();
  return deps.sqlite
    .transaction((): ReceiveResult => {
      const inserted = s.insert.run(provider.id, event.type, event.projectId, eventTs, now, rawBody);
      if (inserted.changes === 0) return { duplicate: true, outcome: null };
      const outcome = bookEvent(deps.sqlite, event, eventTs, now, s.unattributed);
      s.processed.run(now, outcome, inserted.lastInsertRowid);
      return { duplicate: false, outcome };
    })
    .immediate();
}

function bookEvent(
  sqlite: Deps['sqlite'],
  event: ProviderWebhookEvent,
  eventTs: number,
  now: number,
  insertUnattributed: { run(...args: unknown[]): unknown },
): WebhookOutcome {
  const final =
    event.outcome === 'completed' ? (event.credits ?? null) : event.outcome === 'errored' ? 0 : null;
  const known = findProject(sqlite, event.projectId)?.key_id != null;
  if (known) {
    if (final === null) return 'ignored';
    finalizeProject(sqlite, { projectId: event.projectId, finalCredits: final, status: event.status, now });
    return 'attributed';
  }
  const createdAt = event.createdAt ?? eventTs;
  noteOrphanProject(sqlite, {
    id: event.projectId,
    kind: event.kind,
    status: event.status,
    createdAt,
    finalCredits: final,
    now,
  });
  if (event.outcome !== 'completed' || !final) return 'ignored';
  insertUnattributed.run(
    createdAt,
    createdAt,
    final,
    event.projectId,
    JSON.stringify({ type: event.type, status: event.status }),
    now,
  );
  return 'unattributed';
}
