/** Period-end projection of a budget's scope, from the shared forecast (weekday-aware, damped trend). */
import type { Sqlite } from '../db/client.ts';
import type { BudgetScope } from '../db/schema/index.ts';
import { forecastMonth } from '../forecast/month-end.ts';
import { loadForecastInput, type SpendFilter } from '../forecast/query.ts';
import type { Period } from '../time-zone.ts';

export function projectPeriodEnd(
  sqlite: Sqlite,
  timeZone: string,
  scope: { scope: BudgetScope; target: string },
  now: number,
  period: Period,
): number {
  const filter: SpendFilter =
    scope.scope === 'key'
      ? { keyId: scope.target }
      : scope.scope === 'environment'
        ? { environment: scope.target }
        : {};
  return forecastMonth(loadForecastInput(sqlite, now, timeZone, filter, period).input).projected;
}
