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

function topSeries<G extends { group: string }>(groups: G[], pick: (g: G) => number[]): Series[] {
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
    document.getElementById('capacity-growth')?.replaceChildren(empty('No months with usage yet.'));
    return;
  }
  if (monthly) drawMonthly(monthly);
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

type MonthTotal = { month: string; start: number; end: number; partial: boolean; credits: number };
type GroupMonths = { group: string; months: MonthTotal[] };
const controls = document.getElementById('capacity-controls');
const serverMonths = JSON.parse(controls?.dataset.months ?? '{}') as Record<string, GroupMonths[]>;

const monthLabel = (m: MonthTotal) =>
  `${new Intl.DateTimeFormat(undefined, { month: 'short', year: 'numeric', timeZone: 'UTC' }).format(
    new Date(`${m.month}-15T00:00:00Z`),
  )}${m.partial ? ' (to date)' : ''}`;

/** Calendar months of KEYWATCH_TZ as the server counted them; the partial month is drawn lighter. */
function drawMonthly(canvas: HTMLCanvasElement): void {
  const groups = serverMonths[groupSelect?.value ?? 'key'] ?? [];
  const months = groups[0]?.months ?? [];
  if (months.length === 0) {
    showEmpty(canvas, 'No usage in the last twelve months.');
    document.getElementById('capacity-growth')?.replaceChildren(empty('No months with usage yet.'));
    return;
  }
  const series = topSeries(groups, (g) => g.months.map((m) => m.credits));
  const datasets: AnyDataset[] = series.map((s, i) => {
    const colour = PALETTE[i % PALETTE.length]!;
    return {
      type: 'bar',
      label: s.name,
      data: s.values,
      backgroundColor: months.map((m) => (m.partial ? `${colour}66` : colour)),
    };
  });
  drawChart(canvas, 'bar', months.map(monthLabel), datasets, {
    stacked: true,
    yTitle: 'credits',
    credits: true,
  });
  renderGrowth(
    months.map((m, i) => ({ ...m, credits: groups.reduce((s, g) => s + (g.months[i]?.credits ?? 0), 0) })),
  );
}

/** Month-over-month growth of whole months; the current month by its pace to the month end. */
function renderGrowth(months: MonthTotal[]): void {
  const box = document.getElementById('capacity-growth');
  if (!box) return;
  const pct = (now: number, before: number) =>
    before > 0
      ? `${now >= before ? '+' : '−'}${Math.abs(Math.round(((now - before) / before) * 100))}%`
      : '—';
  const rows = months.map((m, i) => {
    const previous = months[i - 1]?.credits ?? 0;
    if (!m.partial)
      return [monthLabel(m), fmtCredits(m.credits), '', i === 0 ? '—' : pct(m.credits, previous)];
    const share = Math.min(Math.max((now - m.start) / (m.end - m.start), 0.001), 1);
    const pace = m.credits / share;
    return [
      monthLabel(m),
      fmtCredits(m.credits),
      `on pace for ${fmtNumber(pace)}`,
      i === 0 ? '—' : `${pct(pace, previous)} (pace)`,
    ];
  });
  box.replaceChildren(
    table(['Month', 'Credits', 'Pace', 'Change vs previous month'], rows.reverse(), [1, 2, 3]),
  );
}

function updateCsvLinks(group: string): void {
  const days = Number(daysSelect?.value ?? 30);
  for (const a of document.querySelectorAll<HTMLAnchorElement>('a.csv')) {
    const monthly = a.id === 'csv-monthly';
    // The monthly export always covers the last twelve calendar months of KEYWATCH_TZ.
    const from = new Date(end - days * DAY).toISOString();
    a.href = monthly
      ? `/export/usage.csv?step=month&group=${group}`
      : `/export/usage.csv?step=day&group=${group}&from=${from}&to=${new Date(end).toISOString()}`;
  }
}

async function load(): Promise<void> {
  const group = groupSelect?.value ?? 'key';
  updateCsvLinks(group);
  const from = end - 365 * DAY;
  // The server sends the largest groups and the rest summed as "(other)": what the stack draws.
  const r = await api<UsageGroups>(
    'GET',
    `/api/v1/usage?step=day&group=${group}&from=${from}&to=${end}&top=${MAX_SERIES - 1}`,
  );
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
