/**
 * Provider projects after creation: final credits and refunds are booked on the key that created
 * the project, at the project's creation bucket, as the difference to what was booked before.
 */
import { sql } from 'drizzle-orm';
import type { Db, Sqlite } from '../db/client.ts';
import { preparedPerConnection } from '../db/statements.ts';
import { execute, type PgQueryable, pgClientOf, rows, sqliteOf } from '../db/transaction.ts';
import { addToBuckets, type BucketDelta } from './buckets.ts';
import { addToBucketsPg } from './buckets-pg.ts';

export type ProjectRow = {
  id: string;
  key_id: string | null;
  operation: string | null;
  created_at: number;
  estimated_credits: number | null;
  final_credits: number | null;
};

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
  };
}

const st = preparedPerConnection(prepare);

/** A project's row, on either store (webhooks). */
export async function findProject(db: Db, id: string): Promise<ProjectRow | undefined> {
  const [row] = await rows<ProjectRow>(
    db,
    sql`SELECT id, key_id, operation, created_at, estimated_credits, final_credits FROM projects WHERE id = ${id}`,
  );
  return row;
}

type FinalInput = { projectId: string; finalCredits: number; status: string | null; now: number };

/** finalizeProject on either store, inside the caller's transaction (webhooks). */
export async function bookFinalCredits(db: Db, input: FinalInput): Promise<number | null> {
  const client = pgClientOf(db);
  return client ? finalizeProjectPg(client, input) : finalizeProject(sqliteOf(db), input);
}

/**
 * Sets a known project's final credits (0 for a refund) and books the difference on its key.
 * Idempotent: a second call with the same final credits books nothing. Returns the delta booked,
 * or null when no key is known to have created the project. Call inside a transaction.
 */
export function finalizeProject(sqlite: Sqlite, input: FinalInput): number | null {
  const row = st(sqlite).get.get(input.projectId);
  if (!row?.key_id) return null;
  const correction = correctionOf(row, row.key_id, input.finalCredits);
  if (correction.credits !== 0) addToBuckets(sqlite, [correction]);
  st(sqlite).finalize.run(input.finalCredits, input.status, input.now, input.projectId);
  return correction.credits;
}

/** Records a project that no key is known to have created (seen only by a webhook), on either store. */
export async function noteOrphanProject(
  db: Db,
  p: {
    id: string;
    kind: string;
    status: string | null;
    createdAt: number;
    finalCredits: number | null;
    now: number;
  },
): Promise<void> {
  await execute(
    db,
    sql`INSERT INTO projects (id, key_id, kind, status, created_at, final_credits, updated_at)
      VALUES (${p.id}, NULL, ${p.kind}, ${p.status}, ${p.createdAt}, ${p.finalCredits}, ${p.now})
      ON CONFLICT (id) DO UPDATE SET status = coalesce(excluded.status, projects.status),
        final_credits = coalesce(excluded.final_credits, projects.final_credits),
        updated_at = excluded.updated_at`,
  );
}

/**
 * finalizeProject on PostgreSQL (the row locked for the transaction): the difference to what was
 * booked moves the buckets.
 */
export async function finalizeProjectPg(c: PgQueryable, f: FinalInput): Promise<number | null> {
  const found = await c.query<ProjectRow>(
    'SELECT id, key_id, operation, created_at, estimated_credits, final_credits FROM projects WHERE id = $1 FOR UPDATE',
    [f.projectId],
  );
  const row = found.rows[0];
  if (!row?.key_id) return null;
  const correction = correctionOf(row, row.key_id, f.finalCredits);
  if (correction.credits !== 0) await addToBucketsPg(c, [correction]);
  await c.query(
    'UPDATE projects SET final_credits = $1, status = coalesce($2, status), updated_at = $3 WHERE id = $4',
    [f.finalCredits, f.status, f.now, f.projectId],
  );
  return correction.credits;
}

/** The bucket change that makes a project's booked credits its final ones, in its creation bucket. */
function correctionOf(row: ProjectRow, keyId: string, finalCredits: number): BucketDelta {
  return {
    keyId,
    ts: row.created_at,
    operation: row.operation ?? '',
    credits: finalCredits - (row.final_credits ?? row.estimated_credits ?? 0),
    requests: 0,
    errors: 0,
    authFailures: 0,
  };
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
