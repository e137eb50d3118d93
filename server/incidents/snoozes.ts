/** Ends expired snoozes: the incident is open again, and if it grew meanwhile, people are told. */
import { and, eq, lte } from 'drizzle-orm';
import { lastNotified, notifyIncident } from '../alerts/notify.ts';
import { writeAudit } from '../audit/write.ts';
import { incidents } from '../db/schema/index.ts';
import type { Deps } from '../deps.ts';
import { impactOf, SEVERITY_RANK } from './severity.ts';

export function wakeExpiredSnoozes(deps: Deps): number {
  const now = deps.clock.now();
  return deps.db.transaction((tx) => {
    const due = tx
      .select()
      .from(incidents)
      .where(and(eq(incidents.state, 'snoozed'), lte(incidents.snoozedUntil, now)))
      .all();
    for (const row of due) {
      const woken = tx
        .update(incidents)
        .set({ state: 'open', snoozedUntil: null, updatedAt: now })
        .where(eq(incidents.id, row.id))
        .returning()
        .get();
      writeAudit(tx, { ts: now, actor: 'system', action: 'incident.snooze_expired', target: row.id });
      const last = lastNotified(tx, row.id);
      const grew = last && last.notifiedImpact > 0 && impactOf(woken) >= 2 * last.notifiedImpact;
      const rose =
        last &&
        SEVERITY_RANK[woken.severity] > SEVERITY_RANK[last.notifiedSeverity as keyof typeof SEVERITY_RANK];
      if (grew || rose) notifyIncident(tx, deps.config, woken, 'woke', now);
    }
    return due.length;
  });
}
