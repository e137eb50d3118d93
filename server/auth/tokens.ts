/** API tokens: created by an admin, shown once, stored as a sha256 hash with their last 4. */
import { desc, eq } from 'drizzle-orm';
import { writeAudit } from '../audit/write.ts';
import type { Clock } from '../clock.ts';
import type { Db } from '../db/client.ts';
import { apiTokens, SCOPES, type Scope } from '../db/schema/index.ts';
import { transaction } from '../db/transaction.ts';
import { writeWithoutWaiting } from '../db/without-waiting.ts';
import { notFound, validationError } from '../errors.ts';
import { iso, isoOrNull } from '../timestamps.ts';
import type { Principal } from './principal.ts';
import { constantTimeEqual, lastFour, randomToken, sha256Hex } from './secrets.ts';

export const TOKEN_PREFIX = 'kw_';

export type TokenView = {
  id: number;
  name: string;
  last4: string;
  scopes: Scope[];
  created_at: string;
  created_by: string;
  last_used_at: string | null;
  revoked_at: string | null;
};

type Deps = { db: Db; clock: Clock };

export async function createApiToken(
  { db, clock }: Deps,
  input: { name: string; scopes: Scope[]; actor: string },
): Promise<{ token: string; view: TokenView }> {
  const name = input.name.trim();
  if (!name || name.length > 100)
    throw validationError([{ path: 'name', message: 'must be 1–100 characters' }]);
  const bad = input.scopes.filter((s) => !SCOPES.includes(s));
  if (input.scopes.length === 0 || bad.length > 0) {
    throw validationError([{ path: 'scopes', message: `must be one or more of ${SCOPES.join(', ')}` }]);
  }
  const token = randomToken(TOKEN_PREFIX, 30);
  const now = clock.now();
  const row = await transaction(db, async (tx) => {
    const inserted = (
      await tx
        .insert(apiTokens)
        .values({
          name,
          tokenHash: sha256Hex(token),
          // Our tokens are 40+ random characters, so they always have a last 4 to show.
          last4: lastFour(token)!,
          scopes: [...new Set(input.scopes)].join(','),
          createdAt: now,
          createdBy: input.actor,
        })
        .returning()
    )[0]!;
    await writeAudit(tx, {
      ts: now,
      actor: input.actor,
      action: 'token.create',
      target: `token:${inserted.id}`,
      details: { name, scopes: input.scopes },
    });
    return inserted;
  });
  return { token, view: toTokenView(row) };
}

/** Returns the principal for a bearer token, or null. Looks up by hash, then compares in constant time. */
export async function authenticateToken({ db, clock }: Deps, token: string): Promise<Principal | null> {
  if (!token.startsWith(TOKEN_PREFIX) || token.length > 200) return null;
  const hash = sha256Hex(token);
  const row = (await db.select().from(apiTokens).where(eq(apiTokens.tokenHash, hash)).limit(1))[0];
  if (!row || row.revokedAt !== null || !constantTimeEqual(row.tokenHash, hash)) return null;
  const now = clock.now();
  // Write last-used at most once a minute so hot ingest paths do not write on every call, and never
  // wait for the lock to do it: a push worker's batch must not freeze the serving thread.
  if (row.lastUsedAt === null || now - row.lastUsedAt > 60_000) {
    writeWithoutWaiting(db, db.update(apiTokens).set({ lastUsedAt: now }).where(eq(apiTokens.id, row.id)));
  }
  return {
    actor: `token:${row.name}`,
    kind: 'token',
    tokenId: row.id,
    scopes: new Set(row.scopes.split(',') as Scope[]),
  };
}

export async function listApiTokens({ db }: Pick<Deps, 'db'>): Promise<TokenView[]> {
  return (await db.select().from(apiTokens).orderBy(desc(apiTokens.createdAt))).map(toTokenView);
}

export async function revokeApiToken({ db, clock }: Deps, id: number, actor: string): Promise<TokenView> {
  const now = clock.now();
  return await transaction(db, async (tx) => {
    const row = (await tx.select().from(apiTokens).where(eq(apiTokens.id, id)).limit(1))[0];
    if (!row) throw notFound(`Token ${id}`);
    // Revoked already: a retry changes nothing and is not audited twice.
    if (row.revokedAt !== null) return toTokenView(row);
    const updated = (
      await tx.update(apiTokens).set({ revokedAt: now }).where(eq(apiTokens.id, id)).returning()
    )[0]!;
    await writeAudit(tx, { ts: now, actor, action: 'token.revoke', target: `token:${id}` });
    return toTokenView(updated);
  });
}

function toTokenView(row: typeof apiTokens.$inferSelect): TokenView {
  return {
    id: row.id,
    name: row.name,
    last4: row.last4,
    scopes: row.scopes.split(',') as Scope[],
    created_at: iso(row.createdAt),
    created_by: row.createdBy,
    last_used_at: isoOrNull(row.lastUsedAt),
    revoked_at: isoOrNull(row.revokedAt),
  };
}
