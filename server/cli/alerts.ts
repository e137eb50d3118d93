/** `keywatch alerts test|send`: check the SMTP setup and flush the outbox (every channel) from the command line. */
import type { Command } from 'commander';
import { eq } from 'drizzle-orm';
import { configuredChannels } from '../alerts/channels/index.ts';
import { smtpMailerFactory } from '../alerts/mailer.ts';
import { toDeliveryView } from '../alerts/outbox.ts';
import { type SendResult, sendOutbox } from '../alerts/send-outbox.ts';
import { queueTestEmail } from '../alerts/send-test-email.ts';
import { alertOutbox } from '../db/schema/index.ts';
import type { Deps } from '../deps.ts';
import { AppError } from '../errors.ts';
import type { WithDeps } from './support.ts';

function requireSmtp(deps: Deps): void {
  if (!deps.config.smtpUrl) throw new AppError(400, 'smtp_not_configured', 'SMTP_URL is not set.');
}

async function flush(deps: Deps): Promise<SendResult> {
  // The webhook, Slack and PagerDuty channels are sent without SMTP; email rows then wait.
  if (configuredChannels(deps.config).length === 0) requireSmtp(deps);
  const mailers = smtpMailerFactory(deps.config.smtpUrl);
  try {
    return await sendOutbox(deps, mailers, globalThis.fetch);
  } finally {
    mailers()?.close();
  }
}

export function addAlertCommands(program: Command, withDeps: WithDeps, actor: string): void {
  const alerts = program
    .command('alerts')
    .description('Alerts: test the SMTP setup, send the outbox (email, webhook, Slack, PagerDuty).');
  alerts
    .command('test')
    .description('Queue a test email (to --to, or everyone alerts are routed to) and send it now.')
    .option('--to <address...>', 'recipient addresses')
    .action((opts: { to?: string[] }) =>
      withDeps(async (deps) => {
        requireSmtp(deps);
        const queued = await queueTestEmail(deps, opts.to ? { to: opts.to } : {}, actor);
        await flush(deps);
        const row = (
          await deps.db.select().from(alertOutbox).where(eq(alertOutbox.id, queued.id)).limit(1)
        )[0]!;
        process.stdout.write(`${JSON.stringify(toDeliveryView(row))}\n`);
        if (row.status !== 'sent') {
          throw new AppError(502, 'delivery_failed', `The test email was not delivered: ${row.lastError}`);
        }
      }),
    );
  alerts
    .command('send')
    .description('Send every message due in the outbox now (the server does this every 15 s).')
    .action(() =>
      withDeps(async (deps) => {
        const result = await flush(deps);
        process.stdout.write(`${JSON.stringify({ sent: result.sent, failed: result.failed })}\n`);
      }),
    );
}
