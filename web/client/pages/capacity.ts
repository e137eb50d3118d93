/** Capacity page: monthly and daily stacked trends by key, environment or operation; forecast; CSV links. */
import { type AnyDataset, canvasById, drawChart, PALETTE, showEmpty } from '../lib/charts.ts';
import { api, empty, fmtCredits, fmtNumber, fmtTime, initPage, table } from '../lib/common.ts';
import { drawForecast, loadForecast } from '../lib/forecast.ts';
import type { UsageGroups } from '../lib/usage.ts';

initPage();

const DAY = 86_400_000;
/** Past this many series, the smallest are summed into "other" so the stack stays readable. */
const MAX_SERIES = 8;
const groupSelect = document.getElementById('capacity-group') as HTMLSelectElement | null;
const daysSelect = document.getElementById('capacity-days') as HTMLSelectElement | null;
const now = Date.parse(document.getElementById('capacity-controls')?.dataset.now ?? '') || Date.now();
const end = Math.floor(now / DAY) * DAY + DAY;
let year: UsageGroups | null = null;

type Series = { name: string; values: number[] };

function topSeries(
  groups: UsageGroups['groups'],
  pick: (g: UsageGroups['groups'][number]) => number[],
): Series[] {
  const series = groups.map((g) => ({ name: g.group, values: pick(g) }));
  if (series.length <= MAX_SERIES) return series;
  const head = series.slice(0, MAX_SERIES - 1);
  const rest = series.slice(MAX_SERIES - 1);
  const other = rest[0]!.values.map((_, i) => rest.reduce((s, r) => s + (r.values[i] ?? 0), 0));
  return [...head, { name: `other (${rest.length})`, values: other }];
}

const bars = (series: Series[]): AnyDataset[] =>
  series.map((s, i) => ({
    type: 'bar',
    label: s.name,
    data: s.values,
    backgroundColor: PALETTE[i % PALETTE.length],
  }));

function render(): void {
  if (!year) return;
  const monthly = canvasById('chart-monthly');
  const daily = canvasById('chart-stacked');
  const days = Number(daysSelect?.value ?? 30);
  if (year.groups.length === 0) {
    for (const c of [monthly, daily])
      if (c) showEmpty(c, 'No usage recorded yet — point your apps at /gw/magichour.');
    document.getElementById('capacity-totals')?.replaceChildren(empty('Nothing to total yet.'));
    return;
  }
  // Months from the day points (UTC months, like the CSV export).
  // Leading months before any usage are dropped so the chart starts where the data does.
  const firstUsed = year.points.findIndex((p) => p.credits > 0);
  const monthKeys = [...new Set(year.points.slice(Math.max(firstUsed, 0)).map((p) => p.ts.slice(0, 7)))];
  const monthOf = new Map(monthKeys.map((m, i) => [m, i]));
  const monthSeries = topSeries(year.groups, (g) => {
    const sums = monthKeys.map(() => 0);
    for (const p of g.points) {
      const i = monthOf.get(p.ts.slice(0, 7));
      if (i !== undefined) sums[i]! += p.credits;
    }
    return sums;
  });
  if (monthly) {
    const labels = monthKeys.map((m) => fmtTime(`${m}-15T00:00:00Z`, 'month'));
    drawChart(monthly, 'bar', labels, bars(monthSeries), { stacked: true, yTitle: 'credits', credits: true });
  }
  const first = year.points.length - days;
  const dailySeries = topSeries(year.groups, (g) => g.points.slice(first).map((p) => p.credits));
  if (daily) {
    const labels = year.points.slice(first).map((p) => fmtTime(p.ts, 'day'));
    drawChart(daily, 'bar', labels, bars(dailySeries), { stacked: true, yTitle: 'credits', credits: true });
  }
  const rows = year.groups
    .map((g) => ({
      g,
      credits: g.points.slice(first).reduce((s, p) => s + p.credits, 0),
      requests: g.points.slice(first).reduce((s, p) => s + p.requests, 0),
    }))
    .sort((a, b) => b.credits - a.credits)
    .map(({ g, credits, requests }) => [g.group, fmtCredits(credits), fmtNumber(requests)]);
  document
    .getElementById('capacity-totals')
    ?.replaceChildren(table([groupSelect?.value ?? 'group', 'Credits', 'Requests'], rows, [1, 2]));
}

function updateCsvLinks(group: string): void {
  const days = Number(daysSelect?.value ?? 30);
  for (const a of document.querySelectorAll<HTMLAnchorElement>('a.csv')) {
    const monthly = a.id === 'csv-monthly';
    const from = end - (monthly ? 365 : days) * DAY;
    a.href = `/export/usage.csv?step=${monthly ? 'month' : 'day'}&group=${group}&from=${new Date(from).toISOString()}&to=${new Date(end).toISOString()}`;
  }
}

async function load(): Promise<void> {
  const group = groupSelect?.value ?? 'key';
  updateCsvLinks(group);
  const from = end - 365 * DAY;
  const r = await api<UsageGroups>('GET', `/api/v1/usage?step=day&group=${group}&from=${from}&to=${end}`);
  if (!r.ok || !r.data) {
    for (const id of ['chart-monthly', 'chart-stacked']) {
      const c = canvasById(id);
      if (c) showEmpty(c, `Usage could not be loaded: ${r.error}`);
    }
    return;
  }
  year = r.data;
  render();
}

groupSelect?.addEventListener('change', () => void load());
daysSelect?.addEventListener('change', () => {
  updateCsvLinks(groupSelect?.value ?? 'key');
  render();
});
document.addEventListener('kw:zone', render);

async function main(): Promise<void> {
  const forecast = loadForecast();
  await load();
  const canvas = canvasById('chart-capacity-forecast');
  const f = await forecast;
  if (canvas) drawForecast(canvas, f);
  document.addEventListener('kw:zone', () => canvas && drawForecast(canvas, f));
}

void main();
