/** Period-end projection of a budget's scope, from the shared forecast (weekday-aware, damped trend). */
import type { Db } from '../db/client.ts';
import type { BudgetScope } from '../db/schema/index.ts';
import { forecastMonth } from '../forecast/month-end.ts';
import { loadForecastInput, type SpendFilter } from '../forecast/query.ts';
import type { Period } from '../time-zone.ts';

export async function projectPeriodEnd(
  db: Db,
  timeZone: string,
  scope: { scope: BudgetScope; target: string },
  now: number,
  period: Period,
): Promise<number> {
  const filter: SpendFilter =
    scope.scope === 'key'
      ? { keyId: scope.target }
      : scope.scope === 'environment'
        ? { environment: scope.target }
        : {};
  return forecastMonth((await loadForecastInput(db, now, timeZone, filter, period)).input).projected;
}
