/** Reads what a digest reports: spend per key against the previous period, open incidents, period-end. */
import { asc, ne } from 'drizzle-orm';
import type { PeriodSource } from '../account/billing-period.ts';
import { currentBudgetPeriod } from '../account/period.ts';
import { projectPeriodEnd } from '../budgets/projection.ts';
import { spendBetween } from '../budgets/spend.ts';
import { incidents } from '../db/schema/index.ts';
import { statement } from '../db/statements.ts';
import type { Deps } from '../deps.ts';
import { findKeyRow } from '../incidents/view.ts';
import { localDate, type Period } from '../time-zone.ts';

export type DigestData = {
  cadence: 'daily' | 'weekly';
  period: Period;
  previous: Period;
  keys: { name: string; environment: string | null; credits: number; previous: number }[];
  total: number;
  previousTotal: number;
  openIncidents: {
    id: string;
    key: string | null;
    kind: string;
    severity: string;
    startedAt: number;
    summary: string;
  }[];
  /**
   * The budget period: the calendar month, or the billing period when the account has a
   * subscription (`source` 'subscription', `lastDay` its last local date).
   */
  month: {
    label: string;
    spent: number;
    projected: number;
    budget: number | null;
    source?: PeriodSource;
    lastDay?: string;
  };
  /** Incidents of the period recorded without paging: too old when judged, or below the credit floor. */
  unpaged: { tooOld: number; belowFloor: number };
};

const PER_KEY_SQL = `SELECT k.name AS name, k.environment AS environment,
    coalesce(sum(CASE WHEN u.bucket >= @from AND u.bucket < @to THEN u.credits END), 0) AS credits,
    coalesce(sum(CASE WHEN u.bucket >= @prevFrom AND u.bucket < @from THEN u.credits END), 0) AS previous
  FROM usage_hour u JOIN keys k ON k.id = u.key_id
  WHERE u.bucket >= @prevFrom AND u.bucket < @to
  GROUP BY k.id ORDER BY credits DESC, k.name`;

export async function readDigestData(
  deps: Deps,
  cadence: DigestData['cadence'],
  period: Period,
  previous: Period,
): Promise<DigestData> {
  const keys = statement(deps.sqlite, PER_KEY_SQL).all({
    from: period.start,
    to: period.end,
    prevFrom: previous.start,
  }) as DigestData['keys'];
  const open = await deps.db
    .select()
    .from(incidents)
    .where(ne(incidents.state, 'resolved'))
    .orderBy(asc(incidents.startedAt));
  const unpaged = statement<[number, number], { silenced: string; n: number }>(
    deps.sqlite,
    `SELECT n.silenced, count(*) AS n FROM alert_notifications n JOIN incidents i ON i.id = n.incident_id
     WHERE n.count = 0 AND n.silenced IS NOT NULL AND i.created_at >= ? AND i.created_at < ? GROUP BY n.silenced`,
  ).all(period.start, period.end);
  const silenced = (why: string) => unpaged.find((r) => r.silenced === why)?.n ?? 0;
  const now = deps.clock.now();
  const month = await currentBudgetPeriod(deps, now);
  const spent = spendBetween(deps.sqlite, { scope: 'total', target: '' }, month.start, month.end);
  const budget = statement(
    deps.sqlite,
    "SELECT monthly_credits AS m FROM budgets WHERE scope = 'total'",
  ).get() as { m: number } | undefined;
  return {
    cadence,
    period,
    previous,
    keys,
    total: keys.reduce((s, k) => s + k.credits, 0),
    previousTotal: keys.reduce((s, k) => s + k.previous, 0),
    openIncidents: await Promise.all(
      open.map(async (row) => ({
        id: row.id,
        key: (await findKeyRow(deps.db, row.keyId))?.name ?? null,
        kind: row.kind,
        severity: row.severity,
        startedAt: row.startedAt,
        summary: row.summary,
      })),
    ),
    unpaged: { tooOld: silenced('too_old'), belowFloor: silenced('below_floor') },
    month: {
      label: month.label,
      spent,
      projected: projectPeriodEnd(
        deps.sqlite,
        deps.config.timeZone,
        { scope: 'total', target: '' },
        now,
        month,
      ),
      budget: budget?.m ?? null,
      source: month.source,
      lastDay: localDate(month.end - 1, deps.config.timeZone),
    },
  };
}
