/**
 * Key rotation, as the provider advises it: create the new key, move every client over, revoke the
 * old key once no client has used it for a while. A rotation pairs the old key with the new one;
 * its view lists each client (IP, user agent, operation) still seen on the old key and says when
 * revoking is safe. While a key is being rotated away, its fading usage is expected (detection
 * reads `started_at` and raises no usage drop for it).
 */
import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { writeAudit } from '../audit/write.ts';
import { type Clock, DAY, MINUTE } from '../clock.ts';
import type { Db } from '../db/client.ts';
import { keyRotations } from '../db/schema/index.ts';
import { transaction } from '../db/transaction.ts';
import { issuesFromZod, notFound, validationError } from '../errors.ts';
import { iso } from '../timestamps.ts';
import { findKey, type KeyView, toKeyView } from './keys.ts';
import { clientsOfKey, lastUseOfKey } from './rotation-clients.ts';

export const DEFAULT_QUIET_MINUTES = 1440;
/** Clients seen on the old key this long before the rotation began still count as its clients. */
export const CLIENT_LOOKBACK = 7 * DAY;

export const StartRotationSchema = z.strictObject({
  new_key_id: z.string().trim().min(1).max(200),
  /** Up to 30 days without use before revoking counts as safe. */
  quiet_minutes: z.number().int().min(1).max(43_200).optional(),
});

export type RotationClient = {
  source_ip: string | null;
  user_agent: string | null;
  operation: string;
  requests: number;
  last_seen_at: string;
  /** Not seen on the old key for `quiet_minutes`: this client has probably moved. */
  quiet: boolean;
};

export type RotationView = {
  old_key: KeyView;
  new_key: KeyView;
  quiet_minutes: number;
  started_at: string;
  /** Last use of the old key by anyone (null: never used). */
  old_key_last_used_at: string | null;
  remaining_clients: RotationClient[];
  safe_to_revoke: boolean;
  /** When it becomes safe if nothing uses the old key again (null once safe). */
  safe_at: string | null;
};

type Deps = { db: Db; clock: Clock };

/**
 * Pairs `oldRef` with `body.new_key_id`; pairing again replaces the pairing (and restarts the clock).
 * Returns the old key's id: its view (readRotation) is read where large reads run (key-reads.ts).
 */
export async function startRotation(
  deps: Deps,
  oldRef: string,
  body: unknown,
  actor: string,
): Promise<string> {
  const parsed = StartRotationSchema.safeParse(body ?? {});
  if (!parsed.success) throw validationError(issuesFromZod(parsed.error.issues));
  const input = parsed.data;
  const now = deps.clock.now();
  return await transaction(deps.db, async (tx) => {
    const old = await findKey(tx, oldRef);
    if (!old) throw notFound(`Key ${JSON.stringify(oldRef)}`);
    const replacement = await findKey(tx, input.new_key_id);
    if (!replacement)
      throw validationError([{ path: 'new_key_id', message: `no key ${JSON.stringify(input.new_key_id)}` }]);
    if (replacement.id === old.id)
      throw validationError([{ path: 'new_key_id', message: 'must be another key than the one rotated' }]);
    if (replacement.status === 'revoked')
      throw validationError([{ path: 'new_key_id', message: 'is revoked: clients cannot move to it' }]);
    if (old.status === 'revoked')
      throw validationError([{ path: 'id', message: 'the key is already revoked: nothing left to rotate' }]);
    const values = {
      newKeyId: replacement.id,
      quietMinutes: input.quiet_minutes ?? DEFAULT_QUIET_MINUTES,
      startedAt: now,
      createdBy: actor,
      updatedAt: now,
    };
    await tx
      .insert(keyRotations)
      .values({ oldKeyId: old.id, ...values })
      .onConflictDoUpdate({ target: keyRotations.oldKeyId, set: values });
    await writeAudit(tx, {
      ts: now,
      actor,
      action: 'key.rotation.start',
      target: old.id,
      details: { new_key_id: replacement.id, quiet_minutes: values.quietMinutes },
    });
    return old.id;
  });
}

/** The rotation of `oldRef` as it stands now; 404 when the key has none. */
export async function readRotation(deps: Deps, oldRef: string): Promise<RotationView> {
  const old = await findKey(deps.db, oldRef);
  if (!old) throw notFound(`Key ${JSON.stringify(oldRef)}`);
  const row = (
    await deps.db.select().from(keyRotations).where(eq(keyRotations.oldKeyId, old.id)).limit(1)
  )[0];
  if (!row) throw notFound(`A rotation of key ${JSON.stringify(old.name)}`);
  const replacement = await findKey(deps.db, row.newKeyId);
  if (!replacement) throw notFound(`Key ${JSON.stringify(row.newKeyId)}`);
  const now = deps.clock.now();
  const quietMs = row.quietMinutes * MINUTE;
  const clients = await clientsOfKey(deps.db, old.id, row.startedAt - CLIENT_LOOKBACK, now + 1);
  const lastUse = Math.max((await lastUseOfKey(deps.db, old.id, now + 1)) ?? 0, old.lastUsedAt ?? 0) || null;
  const safe = lastUse === null || now - lastUse >= quietMs;
  return {
    old_key: toKeyView(old),
    new_key: toKeyView(replacement),
    quiet_minutes: row.quietMinutes,
    started_at: iso(row.startedAt),
    old_key_last_used_at: lastUse === null ? null : iso(lastUse),
    remaining_clients: clients.map((c) => ({
      source_ip: c.source_ip,
      user_agent: c.user_agent,
      operation: c.operation,
      requests: c.requests,
      last_seen_at: iso(c.last_seen),
      quiet: now - c.last_seen >= quietMs,
    })),
    safe_to_revoke: safe,
    safe_at: safe || lastUse === null ? null : iso(lastUse + quietMs),
  };
}
