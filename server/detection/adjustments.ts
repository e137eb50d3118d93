/**
 * Adjustments: how people's feedback changes future detection, and how the runner reads them.
 * Incident feedback (incidents/actions.ts) writes these rows; addDetectionAdjustment() adds one
 * directly, validated, for scripts and tests that need an adjustment without an incident.
 */
import { and, gt, isNull, lt, or } from 'drizzle-orm';
import { z } from 'zod';
import type { Clock } from '../clock.ts';
import type { Queryable } from '../db/client.ts';
import { detectionAdjustments } from '../db/schema/index.ts';
import { issuesFromZod, validationError } from '../errors.ts';
import { DETECTOR_KINDS, type DetectorKind } from './core/params.ts';

export type Adjustment = typeof detectionAdjustments.$inferSelect;

const AdjustmentSchema = z
  .strictObject({
    keyId: z.string().min(1).nullable().optional(),
    kind: z.enum(DETECTOR_KINDS).nullable().optional(),
    type: z.enum(['desensitize', 'rebaseline', 'suppress']),
    from: z.number().int().nonnegative(),
    until: z.number().int().nonnegative().nullable().optional(),
    factor: z.number().min(1).max(100).nullable().optional(),
    incidentId: z.string().nullable().optional(),
    createdBy: z.string().min(1),
  })
  .refine((a) => a.type !== 'desensitize' || (a.factor ?? 0) >= 1, {
    message: 'desensitize needs a factor >= 1',
    path: ['factor'],
  })
  .refine((a) => a.until == null || a.until > a.from, {
    message: 'until must be after from',
    path: ['until'],
  });

export type NewAdjustment = z.input<typeof AdjustmentSchema>;

export async function addDetectionAdjustment(
  deps: { db: Queryable; clock: Clock },
  input: NewAdjustment,
): Promise<Adjustment> {
  const parsed = AdjustmentSchema.safeParse(input);
  if (!parsed.success) throw validationError(issuesFromZod(parsed.error.issues));
  const a = parsed.data;
  return (
    await deps.db
      .insert(detectionAdjustments)
      .values({
        keyId: a.keyId ?? null,
        kind: a.kind ?? null,
        type: a.type,
        from: a.from,
        until: a.until ?? null,
        factor: a.type === 'desensitize' ? (a.factor ?? 2) : null,
        incidentId: a.incidentId ?? null,
        createdBy: a.createdBy,
        createdAt: deps.clock.now(),
      })
      .returning()
  )[0]!;
}

/** Adjustments that may matter in [from, until). */
export async function loadAdjustments(db: Queryable, from: number, until: number): Promise<Adjustment[]> {
  return await db
    .select()
    .from(detectionAdjustments)
    .where(
      and(
        lt(detectionAdjustments.from, until),
        or(isNull(detectionAdjustments.until), gt(detectionAdjustments.until, from)),
      ),
    );
}

const applies = (a: Adjustment, keyId: string | null, kind: DetectorKind | null, t: number) =>
  (a.keyId === null || a.keyId === keyId) &&
  (a.kind === null || kind === null || a.kind === kind) &&
  a.from <= t &&
  (a.until === null || t < a.until);

/** The adjustments in force for one key at one time, in the shape the detectors take. */
export function adjustmentsAt(list: readonly Adjustment[], keyId: string | null, t: number) {
  const here = list.filter((a) => applies(a, keyId, null, t));
  return {
    factor(kind: DetectorKind): number {
      let f = 1;
      for (const a of here)
        if (a.type === 'desensitize' && (a.kind === null || a.kind === kind)) f = Math.max(f, a.factor ?? 1);
      return f;
    },
    suppressed(kind: DetectorKind): boolean {
      return here.some((a) => a.type === 'suppress' && (a.kind === null || a.kind === kind));
    },
    /** The newest rebaseline in force that this key's state has not applied yet. */
    rebaseline(appliedId: number): number | null {
      const ids = here.filter((a) => a.type === 'rebaseline' && a.id > appliedId).map((a) => a.id);
      return ids.length ? Math.max(...ids) : null;
    },
  };
}
