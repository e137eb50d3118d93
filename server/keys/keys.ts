/** Verbs on provider API keys: register, look up, edit, revoke, and discover from traffic. */
import { asc, eq, or } from 'drizzle-orm';
import { z } from 'zod';
import { writeAudit } from '../audit/write.ts';
import { fingerprintKey, lastFour, randomId } from '../auth/secrets.ts';
import type { Clock } from '../clock.ts';
import type { Db, Queryable } from '../db/client.ts';
import { KEY_STATUSES, type KeyRow, keys } from '../db/schema/index.ts';
import { transaction } from '../db/transaction.ts';
import { conflict, issuesFromZod, notFound, validationError } from '../errors.ts';
import { isValidTimeZone } from '../time-zone.ts';
import { iso, isoOrNull, TimestampSchema } from '../timestamps.ts';

const label = (max: number) => z.string().trim().min(1).max(max);
/** A key serving another region than the team's has its hours judged in its own zone. */
const TimeZoneSchema = z
  .string()
  .max(64)
  .refine(isValidTimeZone, 'unknown time zone (IANA name, e.g. Europe/Berlin)');

export const NewKeySchema = z.strictObject({
  name: label(100),
  environment: label(50).nullish(),
  owner: label(200).nullish(),
  created_at: TimestampSchema.optional(),
  /** The provider key itself: reduced at once to fingerprint + last 4, never stored. */
  secret: z.string().min(8, 'must be at least 8 characters').max(500).optional(),
  budget_credits: z.number().positive().nullish(),
  notes: z.string().max(2000).nullish(),
  time_zone: TimeZoneSchema.nullish(),
});

export const KeyPatchSchema = z.strictObject({
  name: label(100).optional(),
  environment: label(50).nullable().optional(),
  owner: label(200).nullable().optional(),
  budget_credits: z.number().positive().nullable().optional(),
  notes: z.string().max(2000).nullable().optional(),
  created_at: TimestampSchema.optional(),
  time_zone: TimeZoneSchema.nullable().optional(),
});

/** A key as the API shows it (also the OpenAPI document's answer schema). */
export const KeyViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  provider: z.string(),
  last4: z.string().nullable(),
  fingerprint: z
    .string()
    .nullable()
    .meta({ description: 'sha256:<64 hex>, an HMAC under the server secret' }),
  environment: z.string().nullable(),
  owner: z.string().nullable(),
  status: z.enum(KEY_STATUSES),
  budget_credits: z.number().nullable(),
  notes: z.string().nullable(),
  time_zone: z.string().nullable(),
  created_at: z.iso.datetime(),
  revoked_at: z.iso.datetime().nullable(),
  first_seen_at: z.iso.datetime().nullable(),
  last_used_at: z.iso.datetime().nullable(),
});
export type KeyView = z.output<typeof KeyViewSchema>;

type Deps = { db: Db; clock: Clock; secret: string };

function parse<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw validationError(issuesFromZod(parsed.error.issues));
  return parsed.data;
}

export async function createKey(deps: Deps, input: unknown, actor: string): Promise<KeyView> {
  const data = parse(NewKeySchema, input);
  const now = deps.clock.now();
  const fingerprint = data.secret ? fingerprintKey(deps.secret, data.secret) : null;
  const row = await transaction(deps.db, async (tx) => {
    if (await findKeyByName(tx, data.name))
      throw conflict(`A key named ${JSON.stringify(data.name)} already exists.`);
    const existing = fingerprint
      ? (await tx.select().from(keys).where(eq(keys.fingerprint, fingerprint)).limit(1))[0]
      : undefined;
    if (existing && existing.status !== 'discovered') {
      throw conflict(`That secret is already registered as key ${JSON.stringify(existing.name)}.`);
    }
    const values = {
      name: data.name,
      environment: data.environment ?? null,
      owner: data.owner ?? null,
      budgetCredits: data.budget_credits ?? null,
      notes: data.notes ?? null,
      timeZone: data.time_zone ?? null,
      last4: data.secret ? lastFour(data.secret) : null,
      fingerprint,
      createdAt: data.created_at ?? now,
      updatedAt: now,
    };
    // Registering a secret that traffic already revealed adopts the discovered key and its history.
    const saved = existing
      ? (
          await tx
            .update(keys)
            .set({ ...values, status: 'active' })
            .where(eq(keys.id, existing.id))
            .returning()
        )[0]!
      : (
          await tx
            .insert(keys)
            .values({ id: randomId('key_'), status: 'active', ...values })
            .returning()
        )[0]!;
    await writeAudit(tx, {
      ts: now,
      actor,
      action: existing ? 'key.adopt' : 'key.create',
      target: saved.id,
      details: { name: saved.name },
    });
    return saved;
  });
  return toKeyView(row);
}

export async function listKeys({ db }: { db: Db }): Promise<KeyView[]> {
  return (await db.select().from(keys).orderBy(asc(keys.name))).map(toKeyView);
}

/**
 * Every key's name and what a pick list filters on, by name: the pages' key choices. Four columns
 * instead of whole rows made into views (listKeys), which at a thousand keys is a stall of about
 * 10 ms on the serving thread per page.
 */
export async function listKeyChoices({ db }: { db: Db }) {
  return db
    .select({ id: keys.id, name: keys.name, status: keys.status, environment: keys.environment })
    .from(keys)
    .orderBy(asc(keys.name));
}

/** Finds a key by id, name or fingerprint. */
export async function findKey(db: Queryable, ref: string): Promise<KeyRow | undefined> {
  return (
    await db
      .select()
      .from(keys)
      .where(or(eq(keys.id, ref), eq(keys.name, ref), eq(keys.fingerprint, ref)))
      .limit(1)
  )[0];
}

async function findKeyByName(db: Queryable, name: string): Promise<KeyRow | undefined> {
  return (await db.select().from(keys).where(eq(keys.name, name)).limit(1))[0];
}

export async function getKey({ db }: { db: Db }, ref: string): Promise<KeyRow> {
  const row = await findKey(db, ref);
  if (!row) throw notFound(`Key ${JSON.stringify(ref)}`);
  return row;
}

export async function updateKey(
  deps: Omit<Deps, 'secret'>,
  ref: string,
  input: unknown,
  actor: string,
): Promise<KeyView> {
  const data = parse(KeyPatchSchema, input);
  const now = deps.clock.now();
  const row = await transaction(deps.db, async (tx) => {
    const current = await findKey(tx, ref);
    if (!current) throw notFound(`Key ${JSON.stringify(ref)}`);
    if (data.name !== undefined && data.name !== current.name && (await findKeyByName(tx, data.name))) {
      throw conflict(`A key named ${JSON.stringify(data.name)} already exists.`);
    }
    const changes = {
      ...(data.name !== undefined && { name: data.name }),
      ...(data.environment !== undefined && { environment: data.environment }),
      ...(data.owner !== undefined && { owner: data.owner }),
      ...(data.budget_credits !== undefined && { budgetCredits: data.budget_credits }),
      ...(data.notes !== undefined && { notes: data.notes }),
      ...(data.time_zone !== undefined && { timeZone: data.time_zone }),
      ...(data.created_at !== undefined && { createdAt: data.created_at }),
      // Naming a discovered key is how an admin claims it.
      ...(current.status === 'discovered' && data.name !== undefined && { status: 'active' as const }),
    };
    const saved = (
      await tx
        .update(keys)
        .set({ ...changes, updatedAt: now })
        .where(eq(keys.id, current.id))
        .returning()
    )[0]!;
    await writeAudit(tx, { ts: now, actor, action: 'key.update', target: current.id, details: data });
    return saved;
  });
  return toKeyView(row);
}

export const RevokeSchema = z.strictObject({ at: TimestampSchema.optional() });

export async function revokeKey(
  deps: Omit<Deps, 'secret'>,
  ref: string,
  input: unknown,
  actor: string,
): Promise<KeyView> {
  const data = parse(RevokeSchema, input ?? {});
  const now = deps.clock.now();
  const at = data.at ?? now;
  const row = await transaction(deps.db, async (tx) => {
    const current = await findKey(tx, ref);
    if (!current) throw notFound(`Key ${JSON.stringify(ref)}`);
    // A retried revoke changes nothing: moving revoked_at to now would hide the uses in between
    // from the used-after-revocation signal. An explicit `at` still corrects the time.
    if (current.status === 'revoked' && data.at === undefined) return current;
    const saved = (
      await tx
        .update(keys)
        .set({ status: 'revoked', revokedAt: at, updatedAt: now })
        .where(eq(keys.id, current.id))
        .returning()
    )[0]!;
    await writeAudit(tx, {
      ts: now,
      actor,
      action: 'key.revoke',
      target: current.id,
      details: { at: iso(at) },
    });
    return saved;
  });
  return toKeyView(row);
}

export function toKeyView(row: KeyRow): KeyView {
  return {
    id: row.id,
    name: row.name,
    provider: row.provider,
    last4: row.last4,
    fingerprint: row.fingerprint,
    environment: row.environment,
    owner: row.owner,
    status: row.status,
    budget_credits: row.budgetCredits,
    notes: row.notes,
    time_zone: row.timeZone,
    created_at: iso(row.createdAt),
    revoked_at: isoOrNull(row.revokedAt),
    first_seen_at: isoOrNull(row.firstSeenAt),
    last_used_at: isoOrNull(row.lastUsedAt),
  };
}
