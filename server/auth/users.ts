/** Dashboard users: created by the CLI or an admin, passwords hashed with scrypt. */
import { asc, count, eq } from 'drizzle-orm';
import { z } from 'zod';
import { writeAudit } from '../audit/write.ts';
import type { Clock } from '../clock.ts';
import type { Db } from '../db/client.ts';
import { ROLES, type Role, users } from '../db/schema/index.ts';
import { transaction } from '../db/transaction.ts';
import { conflict, issuesFromZod, validationError } from '../errors.ts';
import { iso, isoOrNull } from '../timestamps.ts';
import { generateHashedPassword, hashPassword, verifyPassword } from './secrets.ts';

export const NewUserSchema = z.object({
  email: z
    .email()
    .max(254)
    .transform((e) => e.toLowerCase()),
  role: z.enum(ROLES),
  password: z.string().min(10, 'must be at least 10 characters').max(200).optional(),
});

export type UserView = {
  id: number;
  email: string;
  role: Role;
  created_at: string;
  last_login_at: string | null;
};

type Deps = { db: Db; clock: Clock };

/** A user created without a password gets a generated one, returned once. */
export async function addUser(
  { db, clock }: Deps,
  input: z.input<typeof NewUserSchema>,
  actor: string,
): Promise<{ user: UserView; password: string; generated: boolean }> {
  const parsed = NewUserSchema.safeParse(input);
  if (!parsed.success) throw validationError(issuesFromZod(parsed.error.issues));
  const { email, role } = parsed.data;
  const given = parsed.data.password;
  const { password, passwordHash } =
    given === undefined
      ? await generateHashedPassword()
      : { password: given, passwordHash: await hashPassword(given) };
  const now = clock.now();
  const row = await transaction(db, async (tx) => {
    if ((await tx.select({ id: users.id }).from(users).where(eq(users.email, email)).limit(1))[0]) {
      throw conflict(`A user with email ${email} already exists.`);
    }
    const inserted = (
      await tx.insert(users).values({ email, role, passwordHash, createdAt: now }).returning()
    )[0]!;
    await writeAudit(tx, { ts: now, actor, action: 'user.add', target: `user:${email}`, details: { role } });
    return inserted;
  });
  return { user: toUserView(row), password, generated: parsed.data.password === undefined };
}

/** Checks a login; the same work is done for unknown emails so timing does not reveal which exist. */
export async function verifyLogin({ db }: Pick<Deps, 'db'>, email: string, password: string) {
  const row = (await db.select().from(users).where(eq(users.email, email.trim().toLowerCase())).limit(1))[0];
  const ok = await verifyPassword(password, row?.passwordHash ?? DUMMY_HASH);
  return row && ok && row.disabledAt === null ? row : null;
}

const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

export async function countUsers({ db }: Pick<Deps, 'db'>): Promise<number> {
  return (await db.select({ n: count() }).from(users).limit(1))[0]?.n ?? 0;
}

export async function listUsers({ db }: Pick<Deps, 'db'>): Promise<UserView[]> {
  return (await db.select().from(users).orderBy(asc(users.id))).map(toUserView);
}

function toUserView(row: typeof users.$inferSelect): UserView {
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    created_at: iso(row.createdAt),
    last_login_at: isoOrNull(row.lastLoginAt),
  };
}
