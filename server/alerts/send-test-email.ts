/** Queues a test email (to the given addresses, or everyone alerts are routed to). Audited. */
import { z } from 'zod';
import { writeAudit } from '../audit/write.ts';
import { transaction } from '../db/transaction.ts';
import type { Deps } from '../deps.ts';
import { issuesFromZod, validationError } from '../errors.ts';
import { mailDomain } from './notify.ts';
import { enqueueEmail } from './outbox.ts';
import { renderTestEmail } from './render-test-email.ts';
import { loadRouting } from './routing.ts';

export const TestEmailSchema = z.strictObject({ to: z.array(z.email().max(254)).min(1).max(10).optional() });

export async function queueTestEmail(deps: Deps, input: unknown, actor: string) {
  const parsed = TestEmailSchema.safeParse(input ?? {});
  if (!parsed.success) throw validationError(issuesFromZod(parsed.error.issues));
  const routing = await loadRouting(deps.db, deps.config);
  const to = parsed.data.to ?? [...new Set([...routing.security_to, ...routing.billing_to])];
  if (to.length === 0)
    throw validationError([{ path: 'to', message: 'no recipients configured; give "to"' }]);
  const now = deps.clock.now();
  return await transaction(deps.db, async (tx) => {
    const queued = await enqueueEmail(tx, {
      ...renderTestEmail({
        publicUrl: deps.config.publicUrl,
        actor,
        at: now,
        timeZone: deps.config.timeZone,
      }),
      to,
      category: 'test',
      now,
      domain: mailDomain(deps.config),
    });
    await writeAudit(tx, {
      ts: now,
      actor,
      action: 'alerts.test',
      target: String(queued.id),
      details: { to },
    });
    return queued;
  });
}
