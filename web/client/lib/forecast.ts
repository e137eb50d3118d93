/** The period-end forecast (GET /api/v1/forecast): fetched once per page, drawn as spend-to-date plus a band. */
import { type AnyDataset, bandDatasets, drawChart, PALETTE, showEmpty } from './charts.ts';
import { type ApiResult, api } from './common.ts';

export type Forecast = {
  month: string;
  /** `subscription` when the forecast runs to the end of the account's billing period. */
  period?: { from: string; to: string; source: 'subscription' | 'calendar' };
  time_zone: string;
  spent: number;
  projected: number;
  low: number;
  high: number;
  budget: number | null;
  daily: { date: string; credits: number; cumulative: number }[];
  projection: { date: string; projected: number; low: number; high: number }[];
  runway_days: number | null;
  /** Whether the balance lasts until the period ends (null without a balance). */
  runway_past_period_end?: boolean | null;
  balance: number | null;
};

export const loadForecast = (query = '') => api<Forecast>('GET', `/api/v1/forecast${query}`);

/** A calendar date (YYYY-MM-DD) as "Nov 3": dates are already in the forecast's zone. */
const dayLabel = (date: string) =>
  new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' }).format(
    new Date(`${date}T00:00:00Z`),
  );

/** True when there is nothing to project from: no usage at all so far this period. */
export const forecastIsEmpty = (f: Forecast) => f.spent <= 0 && f.projected <= 0 && f.high <= 0;

/** Projected above the budget: the one test the overview card and the chart legend share. */
export const forecastOverBudget = (f: Forecast) =>
  f.budget !== null && f.budget > 0 && f.projected > f.budget;

export function forecastMessage(r: ApiResult<Forecast>): string | null {
  if (r.ok && r.data && !forecastIsEmpty(r.data) && (r.data.daily.length > 0 || r.data.projection.length > 0))
    return null;
  if (r.status === 404 || r.ok)
    return 'No forecast yet: no usage recorded this period. It appears once keys spend credits.';
  return `The forecast could not be loaded: ${r.error}`;
}

export function drawForecast(canvas: HTMLCanvasElement, r: ApiResult<Forecast>): void {
  const message = forecastMessage(r);
  if (message || !r.data) {
    showEmpty(canvas, message ?? '');
    return;
  }
  const f = r.data;
  const dates = [...new Set([...f.daily.map((d) => d.date), ...f.projection.map((p) => p.date)])].sort();
  const spent = new Map(f.daily.map((d) => [d.date, d.cumulative]));
  const proj = new Map(f.projection.map((p) => [p.date, p]));
  // Start the projection where spend-to-date ends, so the two lines join.
  const last = f.daily.at(-1);
  if (last && !proj.has(last.date) && f.projection.length > 0) {
    proj.set(last.date, {
      date: last.date,
      projected: last.cumulative,
      low: last.cumulative,
      high: last.cumulative,
    });
  }
  const pick = (fn: (p: Forecast['projection'][number]) => number) =>
    dates.map((d) => (proj.has(d) ? fn(proj.get(d)!) : null));
  const datasets: AnyDataset[] = [
    ...bandDatasets(
      pick((p) => p.low),
      pick((p) => p.high),
      'Forecast range',
    ),
    {
      type: 'line',
      label: 'Spent so far',
      data: dates.map((d) => spent.get(d) ?? null),
      borderColor: PALETTE[0],
      backgroundColor: PALETTE[0],
      pointRadius: 0,
      borderWidth: 2,
    },
    {
      type: 'line',
      label: 'Projected',
      data: pick((p) => p.projected),
      borderColor: PALETTE[0],
      borderDash: [6, 4],
      pointRadius: 0,
      borderWidth: 2,
    },
  ];
  if (f.budget) {
    datasets.push({
      type: 'line',
      label: forecastOverBudget(f) ? 'Budget (forecast is over it)' : 'Budget',
      data: dates.map(() => f.budget),
      borderColor: PALETTE[1],
      pointRadius: 0,
      borderWidth: 1.5,
      borderDash: [2, 3],
    });
  }
  drawChart(canvas, 'line', dates.map(dayLabel), datasets, {
    yTitle: 'credits (cumulative)',
    legend: true,
    credits: true,
  });
}
