/** Reading the audit log: newest first, paged by id. */
import { desc, lt } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { auditLog } from '../db/schema/index.ts';
import { iso } from '../timestamps.ts';

export type AuditView = {
  id: number;
  ts: string;
  actor: string;
  action: string;
  target: string | null;
  details: Record<string, unknown> | null;
};

export async function listAudit(
  { db }: { db: Db },
  options: { limit: number; before?: number },
): Promise<AuditView[]> {
  return (
    await db
      .select()
      .from(auditLog)
      .where(options.before === undefined ? undefined : lt(auditLog.id, options.before))
      .orderBy(desc(auditLog.id))
      .limit(options.limit)
  ).map((row) => ({
    id: row.id,
    ts: iso(row.ts),
    actor: row.actor,
    action: row.action,
    target: row.target,
    details: row.details ? (JSON.parse(row.details) as Record<string, unknown>) : null,
  }));
}
