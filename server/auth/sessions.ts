/** Dashboard sessions: a random cookie value, stored as its sha256, with a CSRF token per session. */
import { and, eq, gt, lt } from 'drizzle-orm';
import type { Clock } from '../clock.ts';
import { DAY } from '../clock.ts';
import type { Db } from '../db/client.ts';
import { sessions, users } from '../db/schema/index.ts';
import { transaction } from '../db/transaction.ts';
import { type Principal, scopesForRole } from './principal.ts';
import { randomToken, sha256Hex } from './secrets.ts';

export const SESSION_COOKIE = 'kw_session';
export const SESSION_TTL_MS = 14 * DAY;

type Deps = { db: Db; clock: Clock };

export async function createSession(
  { db, clock }: Deps,
  userId: number,
): Promise<{ cookieValue: string; csrfToken: string }> {
  const cookieValue = randomToken('', 32);
  const csrfToken = randomToken('', 24);
  const now = clock.now();
  await transaction(db, async (tx) => {
    await tx.delete(sessions).where(lt(sessions.expiresAt, now));
    await tx.insert(sessions).values({
      idHash: sha256Hex(cookieValue),
      userId,
      csrfToken,
      createdAt: now,
      expiresAt: now + SESSION_TTL_MS,
    });
    await tx.update(users).set({ lastLoginAt: now }).where(eq(users.id, userId));
  });
  return { cookieValue, csrfToken };
}

export type SessionPrincipal = Principal & { csrfToken: string; email: string };

export async function authenticateSession(
  { db, clock }: Deps,
  cookieValue: string,
): Promise<SessionPrincipal | null> {
  if (cookieValue.length < 20 || cookieValue.length > 200) return null;
  const row = (
    await db
      .select({ user: users, csrfToken: sessions.csrfToken })
      .from(sessions)
      .innerJoin(users, eq(users.id, sessions.userId))
      .where(and(eq(sessions.idHash, sha256Hex(cookieValue)), gt(sessions.expiresAt, clock.now())))
      .limit(1)
  )[0];
  if (!row || row.user.disabledAt !== null) return null;
  return {
    actor: `user:${row.user.email}`,
    kind: 'user',
    scopes: scopesForRole(row.user.role),
    userId: row.user.id,
    role: row.user.role,
    email: row.user.email,
    csrfToken: row.csrfToken,
  };
}

export async function deleteSession({ db }: Pick<Deps, 'db'>, cookieValue: string): Promise<void> {
  await db.delete(sessions).where(eq(sessions.idHash, sha256Hex(cookieValue)));
}
