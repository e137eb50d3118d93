/**
 * Budgets: a monthly credit allowance per key, per environment or in total, counted per billing
 * period when the account has a subscription, else per calendar month (account/billing-period.ts). A key's
 * `budget_credits` (keys API) counts as that key's budget with the default thresholds unless a
 * budget row for the key exists; those implicit budgets are listed with id `key:<key id>` and are
 * edited through the keys API.
 */
import { and, asc, eq, isNotNull } from 'drizzle-orm';
import { z } from 'zod';
import { currentBudgetPeriod } from '../account/period.ts';
import { writeAudit } from '../audit/write.ts';
import { randomId } from '../auth/secrets.ts';
import type { Db, Queryable } from '../db/client.ts';
import {
  BUDGET_SCOPES,
  type BudgetRow,
  type BudgetScope,
  budgetFirings,
  budgets,
  keys,
} from '../db/schema/index.ts';
import { transaction } from '../db/transaction.ts';
import type { Deps } from '../deps.ts';
import { conflict, issuesFromZod, notFound, validationError } from '../errors.ts';
import { findKey } from '../keys/keys.ts';
import { iso } from '../timestamps.ts';
import { projectPeriodEnd } from './projection.ts';
import { spendBetween } from './spend.ts';

export const DEFAULT_THRESHOLDS = [0.5, 0.8, 1];
const Thresholds = z
  .array(z.number().positive().max(10))
  .min(1)
  .max(10)
  .transform((ts) => [...new Set(ts)].sort((a, b) => a - b));

export const NewBudgetSchema = z.strictObject({
  scope: z.enum(BUDGET_SCOPES),
  target: z.string().trim().min(1).max(100).nullish(),
  monthly_credits: z.number().positive().max(1e12),
  thresholds: Thresholds.default(DEFAULT_THRESHOLDS),
  notify_forecast: z.boolean().default(true),
});
export const BudgetPatchSchema = z.strictObject({
  monthly_credits: z.number().positive().max(1e12).optional(),
  thresholds: Thresholds.optional(),
  notify_forecast: z.boolean().optional(),
});

export type Budget = Omit<BudgetRow, 'thresholds'> & { thresholds: number[]; implicit: boolean };

function parse<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw validationError(issuesFromZod(parsed.error.issues));
  return parsed.data;
}

const fromRow = (row: BudgetRow): Budget => ({
  ...row,
  thresholds: JSON.parse(row.thresholds) as number[],
  implicit: false,
});

/** Every budget in force: the stored ones plus the keys' own budgets not overridden by one. */
export async function listBudgets(db: Queryable): Promise<Budget[]> {
  const stored = (await db.select().from(budgets).orderBy(asc(budgets.createdAt))).map(fromRow);
  const covered = new Set(stored.filter((b) => b.scope === 'key').map((b) => b.target));
  const implicit = (await db.select().from(keys).where(isNotNull(keys.budgetCredits)).orderBy(asc(keys.name)))
    .filter((k) => !covered.has(k.id))
    .map<Budget>((k) => ({
      id: `key:${k.id}`,
      scope: 'key',
      target: k.id,
      monthlyCredits: k.budgetCredits!,
      thresholds: DEFAULT_THRESHOLDS,
      notifyForecast: true,
      createdAt: k.createdAt,
      updatedAt: k.updatedAt,
      implicit: true,
    }));
  return [...stored, ...implicit];
}

export async function toBudgetView(deps: Pick<Deps, 'db' | 'sqlite' | 'clock' | 'config'>, b: Budget) {
  const now = deps.clock.now();
  const month = await currentBudgetPeriod(deps, now);
  const spent = await spendBetween(deps.db, b, month.start, month.end);
  const projected = await projectPeriodEnd(deps.db, deps.config.timeZone, b, now, month);
  const state = spent >= b.monthlyCredits ? 'exceeded' : projected > b.monthlyCredits ? 'at_risk' : 'ok';
  return {
    id: b.id,
    scope: b.scope,
    target: b.scope === 'total' ? null : b.target,
    monthly_credits: b.monthlyCredits,
    thresholds: b.thresholds,
    notify_forecast: b.notifyForecast,
    // 'YYYY-MM' for a calendar month, the first day ('YYYY-MM-DD') of a billing period.
    month: month.label,
    period: { from: iso(month.start), to: iso(month.end), source: month.source },
    spent,
    projected: Math.round(projected),
    state,
    source: b.implicit ? 'key' : 'budget',
  };
}

async function resolveTarget(
  db: Queryable,
  scope: Budget['scope'],
  target: string | null | undefined,
): Promise<string> {
  if (scope === 'total') {
    if (target) throw validationError([{ path: 'target', message: 'must be empty for a total budget' }]);
    return '';
  }
  if (!target) throw validationError([{ path: 'target', message: `required for a ${scope} budget` }]);
  if (scope === 'environment') return target;
  const key = await findKey(db, target);
  if (!key) throw validationError([{ path: 'target', message: `no key ${JSON.stringify(target)}` }]);
  return key.id;
}

export async function createBudget(
  deps: { db: Db; clock: { now(): number } },
  input: unknown,
  actor: string,
): Promise<Budget> {
  const data = parse(NewBudgetSchema, input);
  const now = deps.clock.now();
  return await transaction(deps.db, async (tx) => {
    const target = await resolveTarget(tx, data.scope, data.target);
    const dup = (
      await tx
        .select()
        .from(budgets)
        .where(and(eq(budgets.scope, data.scope), eq(budgets.target, target)))
        .limit(1)
    )[0];
    if (dup) throw conflict(`A ${data.scope} budget for that target already exists (${dup.id}).`);
    const row = (
      await tx
        .insert(budgets)
        .values({
          id: randomId('bud_'),
          scope: data.scope,
          target,
          monthlyCredits: data.monthly_credits,
          thresholds: JSON.stringify(data.thresholds),
          notifyForecast: data.notify_forecast,
          createdAt: now,
          updatedAt: now,
        })
        .returning()
    )[0]!;
    await writeAudit(tx, { ts: now, actor, action: 'budget.create', target: row.id, details: data });
    return fromRow(row);
  });
}

async function storedBudget(db: Queryable, id: string): Promise<BudgetRow> {
  if (id.startsWith('key:')) {
    throw conflict("A key's own budget is edited with PATCH /api/v1/keys/:id {budget_credits}.");
  }
  const row = (await db.select().from(budgets).where(eq(budgets.id, id)).limit(1))[0];
  if (!row) throw notFound(`Budget ${JSON.stringify(id)}`);
  return row;
}

export async function getBudget(db: Queryable, id: string): Promise<Budget> {
  const found = (await listBudgets(db)).find((b) => b.id === id);
  if (!found) throw notFound(`Budget ${JSON.stringify(id)}`);
  return found;
}

export async function updateBudget(
  deps: { db: Db; clock: { now(): number } },
  id: string,
  input: unknown,
  actor: string,
): Promise<Budget> {
  const data = parse(BudgetPatchSchema, input);
  const now = deps.clock.now();
  return await transaction(deps.db, async (tx) => {
    await storedBudget(tx, id);
    const row = (
      await tx
        .update(budgets)
        .set({
          ...(data.monthly_credits !== undefined && { monthlyCredits: data.monthly_credits }),
          ...(data.thresholds !== undefined && { thresholds: JSON.stringify(data.thresholds) }),
          ...(data.notify_forecast !== undefined && { notifyForecast: data.notify_forecast }),
          updatedAt: now,
        })
        .where(eq(budgets.id, id))
        .returning()
    )[0]!;
    await writeAudit(tx, { ts: now, actor, action: 'budget.update', target: id, details: data });
    return fromRow(row);
  });
}

export async function deleteBudget(
  deps: { db: Db; clock: { now(): number } },
  id: string,
  actor: string,
): Promise<void> {
  const now = deps.clock.now();
  await transaction(deps.db, async (tx) => {
    const row = await storedBudget(tx, id);
    await tx.delete(budgets).where(eq(budgets.id, id));
    await tx.delete(budgetFirings).where(eq(budgetFirings.budgetId, id));
    await writeAudit(tx, {
      ts: now,
      actor,
      action: 'budget.delete',
      target: id,
      details: { scope: row.scope, target: row.target },
    });
  });
}

/** The monthly budget (credits) for exactly this scope: a key, an environment, or the whole account. */
export async function budgetFor(
  db: Queryable,
  scope: BudgetScope,
  target: string | null,
): Promise<number | null> {
  const budget = (await listBudgets(db)).find(
    (b) => b.scope === scope && (scope === 'total' || b.target === target),
  );
  return budget?.monthlyCredits ?? null;
}
