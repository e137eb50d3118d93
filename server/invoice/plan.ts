/**
 * The invoice plan setting (PUT /api/v1/invoice/plan): a currency and contiguous price bands from
 * 0 credits, the last one open-ended (a capped last band would price the credits past it at
 * nothing). Validated whole before anything is written; every change is audited.
 */
import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { writeAudit } from '../audit/write.ts';
import type { Db, Queryable } from '../db/client.ts';
import { invoicePlan } from '../db/schema/index.ts';
import { transaction } from '../db/transaction.ts';
import { issuesFromZod, validationError } from '../errors.ts';
import type { Band } from './pricing.ts';

const Credits = z.number().finite().min(0).max(1e13);

const BandSchema = z.strictObject({
  from_credits: Credits,
  to_credits: Credits.nullable(),
  price_per_credit: z.number().finite().min(0).max(1_000),
});

export const PlanSchema = z
  .strictObject({
    currency: z
      .string()
      .regex(/^[A-Za-z]{3}$/, 'must be a three-letter ISO 4217 code, such as USD')
      .transform((c) => c.toUpperCase()),
    bands: z.array(BandSchema).min(1).max(20),
  })
  .superRefine((plan, ctx) => {
    plan.bands.forEach((b, i) => {
      const expected = i === 0 ? 0 : plan.bands[i - 1]!.to_credits;
      if (b.from_credits !== expected) {
        ctx.addIssue({
          code: 'custom',
          path: ['bands', i, 'from_credits'],
          message:
            i === 0
              ? 'the first band must start at 0'
              : `must equal the previous band's to_credits (${expected ?? 'null'})`,
        });
      }
      if (b.to_credits !== null && b.to_credits <= b.from_credits) {
        ctx.addIssue({
          code: 'custom',
          path: ['bands', i, 'to_credits'],
          message: 'must be above from_credits',
        });
      } else if (b.to_credits !== null && i === plan.bands.length - 1) {
        ctx.addIssue({
          code: 'custom',
          path: ['bands', i, 'to_credits'],
          message: 'must be null in the last band: credits past it would have no price',
        });
      }
    });
  });

export type Plan = { currency: string; bands: Band[] };

const ROW_ID = 1;

export async function readPlan(
  db: Queryable,
): Promise<(Plan & { updatedAt: number; updatedBy: string }) | null> {
  const row = (await db.select().from(invoicePlan).where(eq(invoicePlan.id, ROW_ID)).limit(1))[0];
  if (!row) return null;
  const bands = JSON.parse(row.bands) as z.output<typeof BandSchema>[];
  return {
    currency: row.currency,
    bands: bands.map((b) => ({
      fromCredits: b.from_credits,
      toCredits: b.to_credits,
      pricePerCredit: b.price_per_credit,
    })),
    updatedAt: row.updatedAt,
    updatedBy: row.updatedBy,
  };
}

export async function setPlan(
  deps: { db: Db; clock: { now(): number } },
  input: unknown,
  actor: string,
): Promise<Plan> {
  const parsed = PlanSchema.safeParse(input);
  if (!parsed.success) throw validationError(issuesFromZod(parsed.error.issues));
  const plan = parsed.data;
  const now = deps.clock.now();
  const row = {
    id: ROW_ID,
    currency: plan.currency,
    bands: JSON.stringify(plan.bands),
    updatedAt: now,
    updatedBy: actor,
  };
  await transaction(deps.db, async (tx) => {
    await tx.insert(invoicePlan).values(row).onConflictDoUpdate({ target: invoicePlan.id, set: row });
    await writeAudit(tx, {
      ts: now,
      actor,
      action: 'invoice.plan.update',
      target: 'invoice_plan',
      details: plan,
    });
  });
  return (await readPlan(deps.db))!;
}

export const planJson = (plan: Plan) => ({
  currency: plan.currency,
  bands: plan.bands.map((b) => ({
    from_credits: b.fromCredits,
    to_credits: b.toCredits,
    price_per_credit: b.pricePerCredit,
  })),
});
