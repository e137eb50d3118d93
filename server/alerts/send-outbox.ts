/** The outbox sender: sends every due message once, retrying failures with backoff. */
import type { Deps } from '../deps.ts';
import type { MailerFactory } from './mailer.ts';
import { claimDue, markAttemptFailed, markSent } from './outbox.ts';

export type SendResult = { sent: number; failed: number; waiting: boolean };

export async function sendOutbox(deps: Deps, mailers: MailerFactory): Promise<SendResult> {
  const mailer = mailers();
  // Without SMTP configured, messages stay pending (visible in deliveries) until it is.
  if (!mailer) return { sent: 0, failed: 0, waiting: true };
  let sent = 0;
  let failed = 0;
  // One message at a time; the first failure ends the run, so an SMTP server that is down or
  // hanging costs one connection attempt per run, not one per queued message.
  for (;;) {
    const [row] = claimDue(deps.db, deps.clock.now(), 1);
    if (!row) break;
    try {
      await mailer.send({
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
      markSent(deps.db, row.id, deps.clock.now());
      sent++;
    } catch (err) {
      markAttemptFailed(deps.db, row, deps.clock.now(), String((err as Error)?.message ?? err));
      failed++;
      deps.log.warn('email delivery failed', { outbox_id: row.id, attempts: row.attempts });
      break;
    }
  }
  return { sent, failed, waiting: false };
}
