/**
 * Sends the daily digest (for yesterday) and the weekly one (for last week, Monday to Sunday)
 * to billing recipients, once each: the period is recorded in the same transaction as the email.
 */
import { eq } from 'drizzle-orm';
import { HOUR } from '../clock.ts';
import { digestsSent } from '../db/schema/index.ts';
import { transaction } from '../db/transaction.ts';
import type { Deps } from '../deps.ts';
import { dayPeriod, type Period, weekPeriod } from '../time-zone.ts';
import { readDigestData } from './digest-data.ts';
import { mailDomain } from './notify.ts';
import { enqueueEmail } from './outbox.ts';
import { renderDigest } from './render-digest.ts';
import { loadRouting } from './routing.ts';

/** Local hour after which the previous period's digest goes out (morning, not midnight). */
export const DIGEST_HOUR = 7;

export async function sendDueDigests(deps: Deps): Promise<string[]> {
  const now = deps.clock.now();
  const tz = deps.config.timeZone;
  const due: ['daily' | 'weekly', Period, Period][] = [
    ['daily', dayPeriod(now, tz, -1), dayPeriod(now, tz, -2)],
    ['weekly', weekPeriod(now, tz, -1), weekPeriod(now, tz, -2)],
  ];
  const sent: string[] = [];
  for (const [cadence, period, previous] of due) {
    const name = `${cadence}:${period.label}`;
    if (now < period.end + DIGEST_HOUR * HOUR) continue;
    await transaction(deps.db, async (tx) => {
      if ((await tx.select().from(digestsSent).where(eq(digestsSent.period, name)).limit(1))[0]) return;
      const to = (await loadRouting(tx, deps.config)).billing_to;
      let outboxId: number | null = null;
      if (to.length > 0) {
        const email = renderDigest(
          await readDigestData(deps, cadence, period, previous),
          deps.config.publicUrl,
          tz,
        );
        outboxId = (
          await enqueueEmail(tx, {
            ...email,
            to,
            category: 'digest',
            now,
            domain: mailDomain(deps.config),
          })
        ).id;
      }
      await tx.insert(digestsSent).values({ period: name, outboxId, sentAt: now });
      sent.push(name);
    });
  }
  return sent;
}
