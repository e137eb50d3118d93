/**
 * The outbox sender: sends every due message once, by its channel (email through the mailer, the
 * others as an HTTP POST through the `fetch` it is given), retrying failures with backoff.
 */

import type { OutboxRow } from '../db/schema/index.ts';
import type { Deps } from '../deps.ts';
import { DeliveryError, type Fetch } from './channels/http.ts';
import { configuredChannels, isHttpChannel, sendChannelBody } from './channels/index.ts';
import type { MailerFactory } from './mailer.ts';
import { claimDue, markAttemptFailed, markFailed, markSent } from './outbox.ts';

/** `waiting`: email is not configured, so email rows stay pending (visible in deliveries). */
export type SendResult = { sent: number; failed: number; waiting: boolean };

export async function sendOutbox(
  deps: Deps,
  mailers: MailerFactory,
  fetchFn: Fetch = globalThis.fetch,
): Promise<SendResult> {
  const mailer = mailers();
  // A channel without its configuration keeps its messages until it has one.
  const ready: string[] = [...(mailer ? ['email'] : []), ...configuredChannels(deps.config)];
  let sent = 0;
  let failed = 0;
  // One message at a time; a channel's first failure ends its part of the run, so an endpoint
  // that is down or hanging costs one attempt per run, not one per queued message.
  for (;;) {
    const [row] = await claimDue(deps.db, deps.clock.now(), 1, ready);
    if (!row) break;
    try {
      if (row.channel === 'email' && mailer) await sendEmail(deps, mailer, row);
      else if (isHttpChannel(row.channel))
        await sendChannelBody(row.channel, deps.config, fetchFn, row.text, deps.clock.now());
      else throw new DeliveryError(`unknown channel ${row.channel}`, false);
      await markSent(deps.db, row.id, deps.clock.now());
      sent++;
    } catch (err) {
      const message = String((err as Error)?.message ?? err);
      failed++;
      const log = { outbox_id: row.id, channel: row.channel, attempts: row.attempts };
      if (err instanceof DeliveryError && !err.retry) {
        await markFailed(deps.db, row.id, message);
        deps.log.warn('delivery refused, not retried', log);
        continue;
      }
      await markAttemptFailed(deps.db, row, deps.clock.now(), message);
      deps.log.warn(`${row.channel} delivery failed`, log);
      ready.splice(ready.indexOf(row.channel), 1);
      if (ready.length === 0) break;
    }
  }
  return { sent, failed, waiting: !mailer };
}

function sendEmail(
  deps: Deps,
  mailer: NonNullable<ReturnType<MailerFactory>>,
  row: OutboxRow,
): Promise<void> {
  return mailer.send({
    from: deps.config.alertFrom,
    to: row.recipients.split(', '),
    subject: row.subject,
    text: row.text,
    html: row.html,
    messageId: row.messageId,
    headers: {
      'Auto-Submitted': 'auto-generated',
      'X-Keywatch-Category': row.category,
      ...(row.incidentId && { 'X-Keywatch-Incident': row.incidentId }),
    },
  });
}
