/**
 * Rules: the detectors' tunables. Defaults live in code (server/detect/params.ts); a global row
 * and per-key rows in detection_rules override them. Validated here, at the edge.
 */
import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { writeAudit } from '../audit/write.ts';
import type { Clock } from '../clock.ts';
import type { Db } from '../db/client.ts';
import { detectionRules, keys } from '../db/schema/index.ts';
import { transaction } from '../db/transaction.ts';
import { issuesFromZod, notFound, validationError } from '../errors.ts';
import {
  DEFAULT_PARAMS,
  defaultRuleSet,
  mergeRuleSet,
  PARAM_DOCS,
  RULE_KINDS,
  type RuleKind,
  type RuleSet,
} from './core/params.ts';

type RuleRow = typeof detectionRules.$inferSelect;

export type RuleSets = { global: RuleSet; forKey(keyId: string | null): RuleSet };

const parseParams = (text: string): Record<string, number> => {
  try {
    return JSON.parse(text) as Record<string, number>;
  } catch {
    return {};
  }
};

function applyRows(base: RuleSet, rows: RuleRow[]): RuleSet {
  let set = base;
  for (const r of rows) {
    if (!(RULE_KINDS as readonly string[]).includes(r.kind)) continue;
    set = mergeRuleSet(set, r.kind as RuleKind, {
      ...(r.enabled !== null && { enabled: r.enabled }),
      params: parseParams(r.params),
    });
  }
  return set;
}

export async function loadRuleSets(db: Db, override?: (set: RuleSet) => RuleSet): Promise<RuleSets> {
  const rows = await db.select().from(detectionRules);
  const globalRows = rows.filter((r) => r.keyId === '');
  const fix = override ?? ((s: RuleSet) => s);
  const global = fix(applyRows(defaultRuleSet(), globalRows));
  const perKey = new Map<string, RuleSet>();
  for (const keyId of new Set(rows.filter((r) => r.keyId !== '').map((r) => r.keyId))) {
    perKey.set(
      keyId,
      fix(
        applyRows(
          applyRows(defaultRuleSet(), globalRows),
          rows.filter((r) => r.keyId === keyId),
        ),
      ),
    );
  }
  return { global, forKey: (keyId) => (keyId && perKey.get(keyId)) || global };
}

export async function listRules(db: Db) {
  const sets = await loadRuleSets(db);
  const rows = await db.select().from(detectionRules);
  const names = new Map(
    (await db.select({ id: keys.id, name: keys.name }).from(keys)).map((k) => [k.id, k.name]),
  );
  return RULE_KINDS.map((kind) => ({
    kind,
    enabled: kind === 'baseline' ? true : sets.global.enabled[kind],
    params: sets.global.params[kind],
    defaults: DEFAULT_PARAMS[kind],
    // What each parameter means, so a form can label it (and the README table stays in step).
    docs: Object.fromEntries(
      Object.keys(DEFAULT_PARAMS[kind]).map((name) => [name, PARAM_DOCS[`${kind}.${name}`] ?? null]),
    ),
    overrides: rows
      .filter((r) => r.kind === kind && r.keyId !== '')
      .map((r) => ({
        key_id: r.keyId,
        key: names.get(r.keyId) ?? null,
        enabled: r.enabled,
        params: parseParams(r.params),
      })),
  }));
}

export const PutRuleSchema = z.strictObject({
  enabled: z.boolean().optional(),
  params: z.record(z.string(), z.number().finite().nonnegative()).optional(),
  key: z.string().min(1).max(200).optional(),
});

/** Unknown or out-of-range parameters of one rule: PUT /rules and the backtest check the same way. */
export function ruleParamIssues(kind: RuleKind, params: Record<string, number>) {
  const known = DEFAULT_PARAMS[kind] as Record<string, number>;
  const issues = Object.keys(params)
    .filter((name) => !(name in known))
    .map((name) => ({
      path: `params.${name}`,
      message: `unknown parameter; known: ${Object.keys(known).join(', ') || 'none'}`,
    }));
  for (const [name, value] of Object.entries(params)) {
    if (name === 'alpha' && (value <= 0 || value >= 1))
      issues.push({ path: `params.${name}`, message: 'must be between 0 and 1' });
  }
  return issues;
}

/** Creates or replaces the global rule of `kind`, or the override for one key (by id or name). */
export async function putRule(deps: { db: Db; clock: Clock }, kind: string, body: unknown, actor: string) {
  if (!(RULE_KINDS as readonly string[]).includes(kind)) throw notFound(`Rule kind "${kind}"`);
  const parsed = PutRuleSchema.safeParse(body ?? {});
  if (!parsed.success) throw validationError(issuesFromZod(parsed.error.issues));
  const input = parsed.data;
  const issues = ruleParamIssues(kind as RuleKind, input.params ?? {});
  if (issues.length) throw validationError(issues);
  let keyId = '';
  if (input.key) {
    const k =
      (await deps.db.select({ id: keys.id }).from(keys).where(eq(keys.id, input.key)).limit(1))[0] ??
      (await deps.db.select({ id: keys.id }).from(keys).where(eq(keys.name, input.key)).limit(1))[0];
    if (!k) throw notFound(`Key "${input.key}"`);
    keyId = k.id;
  }
  const row = {
    kind,
    keyId,
    enabled: input.enabled ?? null,
    params: JSON.stringify(input.params ?? {}),
    updatedBy: actor,
    updatedAt: deps.clock.now(),
  };
  // A changed threshold changes who gets paged: audited like every other change people make.
  await transaction(deps.db, async (tx) => {
    await tx
      .insert(detectionRules)
      .values(row)
      .onConflictDoUpdate({ target: [detectionRules.kind, detectionRules.keyId], set: row });
    await writeAudit(tx, {
      ts: row.updatedAt,
      actor,
      action: 'rule.update',
      target: keyId ? `${kind}:${keyId}` : kind,
      details: { enabled: input.enabled ?? null, params: input.params ?? {} },
    });
  });
  return (await listRules(deps.db)).find((r) => r.kind === kind)!;
}
