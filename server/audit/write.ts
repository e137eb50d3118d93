/** Append-only audit log of every change made by a person, a token or the CLI. */
import type { Queryable } from '../db/client.ts';
import { auditLog } from '../db/schema/index.ts';

export type Actor = string;

export async function writeAudit(
  db: Queryable,
  entry: {
    ts: number;
    actor: Actor;
    action: string;
    target?: string | null;
    details?: Record<string, unknown>;
  },
): Promise<void> {
  await db.insert(auditLog).values({
    ts: entry.ts,
    actor: entry.actor,
    action: entry.action,
    target: entry.target ?? null,
    details: entry.details ? JSON.stringify(entry.details) : null,
  });
}
