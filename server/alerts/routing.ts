/**
 * Who gets which alert: security kinds to on-call, budget kinds to billing, with per-environment
 * overrides (other addresses, or only from a minimum severity). Stored as one JSON document.
 */
import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { writeAudit } from '../audit/write.ts';
import type { Config } from '../config.ts';
import type { Db, Queryable } from '../db/client.ts';
import { alertRouting, SEVERITIES, type Severity } from '../db/schema/index.ts';
import { transaction } from '../db/transaction.ts';
import { issuesFromZod, validationError } from '../errors.ts';
import { isSecurityKind, SEVERITY_RANK } from '../incidents/kinds.ts';

const Addresses = z.array(z.email().max(254)).max(50);

export const RoutingSchema = z.strictObject({
  security_to: Addresses,
  billing_to: Addresses,
  min_severity: z.enum(SEVERITIES).default('info'),
  environments: z
    .array(
      z.strictObject({
        environment: z.string().trim().min(1).max(50),
        security_to: Addresses.optional(),
        billing_to: Addresses.optional(),
        min_severity: z.enum(SEVERITIES).optional(),
      }),
    )
    .max(100)
    .default([]),
});

export type Routing = z.output<typeof RoutingSchema>;

export function defaultRouting(config: Config): Routing {
  return {
    security_to: config.alertSecurityTo,
    billing_to: config.alertBillingTo,
    min_severity: 'info',
    environments: [],
  };
}

export async function loadRouting(db: Queryable, config: Config): Promise<Routing> {
  const row = (await db.select().from(alertRouting).where(eq(alertRouting.id, 1)).limit(1))[0];
  return row ? RoutingSchema.parse(JSON.parse(row.routing)) : defaultRouting(config);
}

export async function saveRouting(
  deps: { db: Db; clock: { now(): number } },
  input: unknown,
  actor: string,
): Promise<Routing> {
  const parsed = RoutingSchema.safeParse(input);
  if (!parsed.success) throw validationError(issuesFromZod(parsed.error.issues));
  const environments = parsed.data.environments.map((e) => e.environment);
  if (new Set(environments).size !== environments.length) {
    throw validationError([{ path: 'environments', message: 'each environment may appear once' }]);
  }
  const now = deps.clock.now();
  const values = { routing: JSON.stringify(parsed.data), updatedBy: actor, updatedAt: now };
  await transaction(deps.db, async (tx) => {
    await tx
      .insert(alertRouting)
      .values({ id: 1, ...values })
      .onConflictDoUpdate({ target: alertRouting.id, set: values });
    await writeAudit(tx, { ts: now, actor, action: 'alerts.routing.update', details: parsed.data });
  });
  return parsed.data;
}

/** PURE: the recipients of an alert of this kind and severity for a key in `environment`. */
export function routeAlert(
  routing: Routing,
  alert: { kind: string; severity: Severity; environment: string | null },
): string[] {
  const override = alert.environment
    ? routing.environments.find((e) => e.environment === alert.environment)
    : undefined;
  const minimum = override?.min_severity ?? routing.min_severity;
  if (SEVERITY_RANK[alert.severity] < SEVERITY_RANK[minimum]) return [];
  const security = isSecurityKind(alert.kind);
  const to = security
    ? (override?.security_to ?? routing.security_to)
    : (override?.billing_to ?? routing.billing_to);
  return [...new Set(to)];
}

/**
 * PURE: whether an alert may go to a channel that has no addresses (webhook, Slack, PagerDuty).
 * The same minimum severity as email applies, per environment; an environment override that sets
 * the alert's route to an empty list (`security_to: []`) mutes that route on every channel. The
 * top-level lists may be empty (a Slack-only setup): they do not mute anything.
 */
export function routeAllows(
  routing: Routing,
  alert: { kind: string; severity: Severity; environment: string | null },
): boolean {
  const override = alert.environment
    ? routing.environments.find((e) => e.environment === alert.environment)
    : undefined;
  const minimum = override?.min_severity ?? routing.min_severity;
  if (SEVERITY_RANK[alert.severity] < SEVERITY_RANK[minimum]) return false;
  const list = isSecurityKind(alert.kind) ? override?.security_to : override?.billing_to;
  return list === undefined || list.length > 0;
}
