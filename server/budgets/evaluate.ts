/**
 * The budget job's work: for each budget, fire every threshold crossed this period (the billing
 * period, else the calendar month) and the "forecast to exceed" finding, each once per period, as
 * incidents that go through the same IncidentListener as detection's; and resolve the previous
 * period's budget incidents when a period ends.
 */
import { and, eq } from 'drizzle-orm';
import type { BillingPeriod } from '../account/billing-period.ts';
import { currentBudgetPeriod } from '../account/period.ts';
import { DAY, floorTo, HOUR } from '../clock.ts';
import type { Tx } from '../db/client.ts';
import { budgetFirings, type Severity } from '../db/schema/index.ts';
import { transaction } from '../db/transaction.ts';
import type { Deps } from '../deps.ts';
import { formatNumber, formatPercent } from '../format.ts';
import type { IncidentListener } from '../incidents/events.ts';
import { BUDGET_KINDS } from '../incidents/kinds.ts';
import {
  extendIncident,
  openIncident,
  resolveIncident,
  unresolvedIncidents,
} from '../incidents/lifecycle.ts';
import { findKeyRow, parseDetails } from '../incidents/view.ts';
import { localDate } from '../time-zone.ts';
import { iso } from '../timestamps.ts';
import { type Budget, listBudgets } from './budgets.ts';
import { projectPeriodEnd } from './projection.ts';
import { spendBetween } from './spend.ts';

/** A projection is too noisy to act on in the first days of a period. */
const FORECAST_AFTER_MS = 3 * DAY;

export const severityForThreshold = (t: number): Severity =>
  t >= 1 ? 'critical' : t >= 0.8 ? 'warning' : 'info';

export async function evaluateBudgets(
  deps: Deps,
  listener: IncidentListener,
): Promise<{ fired: number; resolved: number }> {
  const now = deps.clock.now();
  const month = await currentBudgetPeriod(deps, now);
  return await transaction(deps.db, async (tx) => {
    const resolved = await resolvePastBudgetIncidents(tx, listener, month.label, now);
    let fired = 0;
    for (const budget of await listBudgets(tx))
      fired += await evaluateBudget(deps, tx, listener, budget, month, now);
    return { fired, resolved };
  });
}

async function evaluateBudget(
  deps: Deps,
  tx: Tx,
  listener: IncidentListener,
  budget: Budget,
  month: BillingPeriod,
  now: number,
): Promise<number> {
  const spent = await spendBetween(deps.db, budget, month.start, month.end);
  const projected = await projectPeriodEnd(deps.db, deps.config.timeZone, budget, now, month);
  const firings = await tx
    .select()
    .from(budgetFirings)
    .where(and(eq(budgetFirings.budgetId, budget.id), eq(budgetFirings.period, month.label)));
  const done = new Set(firings.map((f) => f.threshold));
  const label = await budgetLabel(tx, budget);
  const base = { budget, month, now, spent, projected, label };
  let fired = 0;

  const crossed = budget.thresholds.filter((t) => spent >= t * budget.monthlyCredits);
  const fresh = crossed.filter((t) => !done.has(String(t)));
  if (fresh.length > 0) {
    const top = Math.max(...crossed);
    const existing = firings.find((f) => f.threshold !== 'forecast')?.incidentId;
    const incidentId = await writeBudgetIncident(tx, listener, existing, {
      ...base,
      kind: 'budget_threshold',
      severity: severityForThreshold(top),
      observed: spent,
      threshold: top,
      summary: `${label}: ${formatPercent(spent / budget.monthlyCredits)} of ${budgetOfPeriod(month)} of ${formatNumber(budget.monthlyCredits)} credits used (${formatNumber(spent)} credits).`,
    });
    for (const t of fresh) {
      await tx
        .insert(budgetFirings)
        .values({ budgetId: budget.id, period: month.label, threshold: String(t), incidentId, firedAt: now });
    }
    fired += fresh.length;
  }

  const forecastDue =
    budget.notifyForecast &&
    !done.has('forecast') &&
    now - month.start >= FORECAST_AFTER_MS &&
    spent < budget.monthlyCredits &&
    projected > budget.monthlyCredits;
  if (forecastDue) {
    const incidentId = await writeBudgetIncident(tx, listener, undefined, {
      ...base,
      kind: 'budget_forecast',
      severity: 'warning',
      observed: Math.round(projected),
      threshold: null,
      summary: `${label}: on course for ${formatNumber(projected)} credits by ${endOfPeriod(month, deps.config.timeZone)}, over the budget of ${formatNumber(budget.monthlyCredits)}.`,
    });
    await tx
      .insert(budgetFirings)
      .values({ budgetId: budget.id, period: month.label, threshold: 'forecast', incidentId, firedAt: now });
    fired++;
  }
  return fired;
}

/** "the 2026-11 budget" for a calendar month; the billing period is named by its first day. */
const budgetOfPeriod = (p: BillingPeriod) =>
  p.source === 'calendar' ? `the ${p.label} budget` : `the budget for the billing period from ${p.label}`;
const endOfPeriod = (p: BillingPeriod, timeZone: string) =>
  p.source === 'calendar'
    ? `the end of ${p.label}`
    : `the end of the billing period (${localDate(p.end - 1, timeZone)})`;

type Finding = {
  budget: Budget;
  month: BillingPeriod;
  now: number;
  spent: number;
  projected: number;
  label: string;
  kind: 'budget_threshold' | 'budget_forecast';
  severity: Severity;
  observed: number;
  threshold: number | null;
  summary: string;
};

/** Opens the incident, or raises the existing one of this month to the new threshold. */
async function writeBudgetIncident(
  tx: Tx,
  listener: IncidentListener,
  existingId: string | undefined,
  f: Finding,
): Promise<string> {
  const details = {
    scope: f.budget.scope,
    target: f.budget.scope === 'total' ? null : f.budget.target,
    label: f.label,
    budget_id: f.budget.id,
    period: f.month.label,
    period_source: f.month.source,
    period_end: iso(f.month.end),
    threshold: f.threshold,
    monthly_credits: f.budget.monthlyCredits,
    spent: f.spent,
    projected: Math.round(f.projected),
    unit: 'credits',
    window: { from: iso(f.month.start), to: iso(f.now) },
  };
  const finding = {
    severity: f.severity,
    lastSeenAt: f.now,
    observed: f.observed,
    expected: f.budget.monthlyCredits,
    score: f.observed / f.budget.monthlyCredits,
    impactCredits: f.spent,
    summary: f.summary,
    details: JSON.stringify(details),
  };
  const when = { at: f.now, now: f.now };
  const extended = existingId && (await extendIncident(tx, listener, existingId, finding, when));
  if (extended) return extended.id;
  const keyId = f.budget.scope === 'key' ? f.budget.target : null;
  return (
    await openIncident(
      tx,
      listener,
      { ...finding, keyId, kind: f.kind, startedAt: floorTo(f.now, HOUR) },
      when,
    )
  ).id;
}

/**
 * A period's budget findings end with the period. Any label other than the current one is a past
 * period, including a calendar month left behind when the account's billing period took over.
 */
async function resolvePastBudgetIncidents(
  tx: Tx,
  listener: IncidentListener,
  current: string,
  now: number,
): Promise<number> {
  const past = (await unresolvedIncidents(tx)).filter(
    (row) =>
      (BUDGET_KINDS as readonly string[]).includes(row.kind) &&
      String(parseDetails(row).period ?? current) !== current,
  );
  for (const row of past) await resolveIncident(tx, listener, row.id, { at: now, now });
  return past.length;
}

async function budgetLabel(tx: Tx, budget: Budget): Promise<string> {
  if (budget.scope === 'total') return 'Total budget';
  if (budget.scope === 'environment') return `${budget.target} environment budget`;
  return `${(await findKeyRow(tx, budget.target))?.name ?? budget.target} budget`;
}
