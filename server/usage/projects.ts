/**
 * Provider projects after creation: final credits and refunds are booked on the key that created
 * the project, at the project's creation bucket, as the difference to what was booked before.
 */
import type { Sqlite } from '../db/client.ts';
import { addToBuckets } from './buckets.ts';

export type ProjectRow = {
  id: string;
  key_id: string | null;
  operation: string | null;
  created_at: number;
  estimated_credits: number | null;
  final_credits: number | null;
};

const statements = new WeakMap<Sqlite, ReturnType<typeof prepare>>();

function prepare(sqlite: Sqlite) {
  return {
    get: sqlite.prepare<[string], ProjectRow>(
      `SELECT id, key_id, operation, created_at, estimated_credits, final_credits FROM projects WHERE id = ?`,
    ),
    finalize: sqlite.prepare(
      'UPDATE projects SET final_credits = ?, status = coalesce(?, status), updated_at = ? WHERE id = ?',
    ),
    claim: sqlite.prepare(
      `UPDATE projects SET key_id = ?, operation = ?, created_at = ?, estimated_credits = ?, updated_at = ?
       WHERE id = ? AND key_id IS NULL`,
    ),
    forgetUnattributed: sqlite.prepare(
      `DELETE FROM unattributed_spend WHERE source = 'webhook' AND project_id = ?`,
    ),
    upsertOrphan: sqlite.prepare(
      `INSERT INTO projects (id, key_id, kind, status, created_at, final_credits, updated_at)
       VALUES (@id, NULL, @kind, @status, @createdAt, @finalCredits, @now)
       ON CONFLICT (id) DO UPDATE SET status = coalesce(excluded.status, status),
         final_credits = coalesce(excluded.final_credits, final_credits), updated_at = excluded.updated_at`,
    ),
  };
}

function st(sqlite: Sqlite) {
  let s = statements.get(sqlite);
  if (!s) {
    s = prepare(sqlite);
    statements.set(sqlite, s);
  }
  return s;
}

export function findProject(sqlite: Sqlite, id: string): ProjectRow | undefined {
  return st(sqlite).get.get(id);
}

/**
 * Sets a known project's final credits (0 for a refund) and books the difference on its key.
 * Idempotent: a second call with the same final credits books nothing. Returns the delta booked,
 * or null when no key is known to have created the project. Call inside a transaction.
 */
export function finalizeProject(
  sqlite: Sqlite,
  input: { projectId: string; finalCredits: number; status: string | null; now: number },
): number | null {
  const row = st(sqlite).get.get(input.projectId);
  if (!row?.key_id) return null;
  const booked = row.final_credits ?? row.estimated_credits ?? 0;
  const delta = input.finalCredits - booked;
  if (delta !== 0) {
    addToBuckets(sqlite, [
      {
        keyId: row.key_id,
        ts: row.created_at,
        operation: row.operation ?? '',
        credits: delta,
        requests: 0,
        errors: 0,
        authFailures: 0,
      },
    ]);
  }
  st(sqlite).finalize.run(input.finalCredits, input.status, input.now, input.projectId);
  return delta;
}

/** Records a project that no key is known to have created (seen only by a webhook). */
export function noteOrphanProject(
  sqlite: Sqlite,
  p: {
    id: string;
    kind: string;
    status: string | null;
    createdAt: number;
    finalCredits: number | null;
    now: number;
  },
): void {
  st(sqlite).upsertOrphan.run(p);
}

/**
 * A usage event names a project that only a webhook knew so far (its event was still queued when
 * the webhook arrived): the project is the key's after all. The webhook's unattributed spend is
 * withdrawn and its final credits are booked against the event's estimate. Call inside a transaction.
 */
export function claimOrphanProject(
  sqlite: Sqlite,
  e: { projectId: string; keyId: string; operation: string; ts: number; credits: number; now: number },
): boolean {
  const s = st(sqlite);
  const row = s.get.get(e.projectId);
  if (!row || row.key_id !== null) return false;
  s.claim.run(e.keyId, e.operation || null, e.ts, e.credits, e.now, e.projectId);
  s.forgetUnattributed.run(e.projectId);
  if (row.final_credits !== null && row.final_credits !== e.credits) {
    addToBuckets(sqlite, [
      {
        keyId: e.keyId,
        ts: e.ts,
        operation: e.operation,
        credits: row.final_credits - e.credits,
        requests: 0,
        errors: 0,
        authFailures: 0,
      },
    ]);
  }
  return true;
}

/** Final credits implied by a terminal project status; null while the project is still running. */
export function finalCreditsFor(status: string | null, credits: number | null): number | null {
  if (status === 'error') return 0;
  if (status === 'complete' || status === 'canceled') return credits;
  return null;
}
