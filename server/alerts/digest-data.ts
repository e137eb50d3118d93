/** Reads what a digest reports: spend per key against the previous period, open incidents, period-end. */
import { asc, ne, sql } from 'drizzle-orm';
import type { PeriodSource } from '../account/billing-period.ts';
import { currentBudgetPeriod } from '../account/period.ts';
import { projectPeriodEnd } from '../budgets/projection.ts';
import { spendBetween } from '../budgets/spend.ts';
import type { Db } from '../db/client.ts';
import { incidents } from '../db/schema/index.ts';
import { rows } from '../db/transaction.ts';
import type { Deps } from '../deps.ts';
import { findKeyRow } from '../incidents/view.ts';
import { localDate, type Period } from '../time-zone.ts';
import { everyKey } from '../usage/every-key.ts';
import { byteOrder } from '../usage/text-order.ts';

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

// One primary-key range per key (usage_hour has no index on bucket alone).
const perKey = (db: Db, from: number, to: number, prevFrom: number) => sql`SELECT k.name AS name,
    k.environment AS environment,
    coalesce(sum(CASE WHEN u.bucket >= ${from} AND u.bucket < ${to} THEN u.credits END), 0) AS credits,
    coalesce(sum(CASE WHEN u.bucket >= ${prevFrom} AND u.bucket < ${from} THEN u.credits END), 0) AS previous
  FROM usage_hour u JOIN keys k ON k.id = u.key_id
  WHERE ${everyKey(db)} AND u.bucket >= ${prevFrom} AND u.bucket < ${to}
  GROUP BY k.id, k.name, k.environment ORDER BY credits DESC, k.name${byteOrder(db)}`;

export async function readDigestData(
  deps: Deps,
  cadence: DigestData['cadence'],
  period: Period,
  previous: Period,
): Promise<DigestData> {
  const keys = await rows<DigestData['keys'][number]>(
    deps.db,
    perKey(deps.db, period.start, period.end, previous.start),
  );
  const open = await deps.db
    .select()
    .from(incidents)
    .where(ne(incidents.state, 'resolved'))
    .orderBy(asc(incidents.startedAt));
  const unpaged = await rows<{ silenced: string; n: number }>(
    deps.db,
    sql`SELECT n.silenced, count(*) AS n FROM alert_notifications n JOIN incidents i ON i.id = n.incident_id
     WHERE n.count = 0 AND n.silenced IS NOT NULL AND i.created_at >= ${period.start}
       AND i.created_at < ${period.end} GROUP BY n.silenced`,
  );
  const silenced = (why: string) => unpaged.find((r) => r.silenced === why)?.n ?? 0;
  const now = deps.clock.now();
  const month = await currentBudgetPeriod(deps, now);
  const spent = await spendBetween(deps.db, { scope: 'total', target: '' }, month.start, month.end);
  const [budget] = await rows<{ m: number }>(
    deps.db,
    sql`SELECT monthly_credits AS m FROM budgets WHERE scope = 'total'`,
  );
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
      projected: await projectPeriodEnd(
        deps.db,
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
