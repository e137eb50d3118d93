/** Overview page: daily spend chart, forecast chart and cards, runway, source health. */
import { type AnyDataset, canvasById, drawChart, PALETTE, showEmpty } from '../lib/charts.ts';
import { api, creditPrice, el, fmtMoney, fmtNumber, fmtTime, initPage } from '../lib/common.ts';
import {
  drawForecast,
  type Forecast,
  forecastIsEmpty,
  forecastOverBudget,
  loadForecast,
} from '../lib/forecast.ts';
import { renderSources } from '../lib/sources.ts';
import type { UsageGroups } from '../lib/usage.ts';

initPage();

const set = (id: string, text: string) => {
  const node = document.getElementById(id);
  if (node) node.textContent = text;
};

/** Same layout as the server's card numbers: figure, unit, and money underneath when priced. */
function setCredits(id: string, credits: number): void {
  const price = creditPrice();
  document
    .getElementById(id)
    ?.replaceChildren(
      el('span', { class: 'num' }, fmtNumber(credits)),
      ' ',
      el('span', { class: 'unit' }, 'credits'),
      ...(price === undefined ? [] : [el('span', { class: 'money' }, fmtMoney(credits * price))]),
    );
}

async function drawDaily(): Promise<void> {
  const canvas = canvasById('chart-daily');
  if (!canvas) return;
  const { from, to } = canvas.dataset;
  const r = await api<UsageGroups>('GET', `/api/v1/usage?step=day&group=environment&from=${from}&to=${to}`);
  if (!r.ok || !r.data) return showEmpty(canvas, `Usage could not be loaded: ${r.error}`);
  const usage = r.data;
  if (usage.groups.length === 0)
    return showEmpty(canvas, 'No usage in the last 30 days — point your apps at /gw/magichour.');
  const render = () => {
    const labels = usage.points.map((p) => fmtTime(p.ts, 'day'));
    const datasets: AnyDataset[] = usage.groups.map((g, i) => ({
      type: 'bar',
      label: g.group,
      data: g.points.map((p) => p.credits),
      backgroundColor: PALETTE[i % PALETTE.length],
    }));
    drawChart(canvas, 'bar', labels, datasets, { stacked: true, yTitle: 'credits', credits: true });
  };
  render();
  document.addEventListener('kw:zone', render);
}

function fillForecastCards(f: Forecast | null): void {
  if (!f || forecastIsEmpty(f)) {
    set('forecast-value', '—');
    set('forecast-band', 'No forecast yet: no usage recorded this period.');
    return;
  }
  setCredits('forecast-value', f.projected);
  const end = f.period?.source === 'subscription' ? 'the billing period’s end' : 'month end';
  set('forecast-band', `Likely ${fmtNumber(f.low)}–${fmtNumber(f.high)} credits by ${end}`);
  if (forecastOverBudget(f) && f.budget) {
    // Said in words and colour: the forecast is the earliest warning a billing owner gets.
    document
      .getElementById('forecast-band')
      ?.after(
        el(
          'span',
          { class: 'badge badge-bad', id: 'forecast-over' },
          `Over budget: ${fmtNumber(f.projected - f.budget)} credits above the ${fmtNumber(f.budget)} budget`,
        ),
      );
  }
  if (f.budget) {
    const share = Math.round((f.spent / f.budget) * 100);
    set('budget-hint', `${share}% of the ${fmtNumber(f.budget)}-credit budget`);
  }
  if (f.runway_days !== null && f.runway_days !== undefined) {
    set('runway-value', `${fmtNumber(f.runway_days)} days`);
    const short = f.runway_past_period_end === false ? ', runs out before the period ends' : '';
    if (f.balance !== null)
      set('runway-hint', `Balance ${fmtNumber(f.balance)} credits at the current pace${short}`);
  }
}

async function fillBudget(hasForecastBudget: boolean): Promise<void> {
  if (hasForecastBudget) return;
  const r = await api<{ budgets: { scope: string; monthly_credits: number; spent: number }[] }>(
    'GET',
    '/api/v1/budgets',
  );
  const total = r.data?.budgets.find((b) => b.scope === 'total');
  set(
    'budget-hint',
    total
      ? `${Math.round((total.spent / total.monthly_credits) * 100)}% of the ${fmtNumber(total.monthly_credits)}-credit budget`
      : 'No account budget set (Budgets & rules).',
  );
}

async function fillRunway(known: boolean): Promise<void> {
  if (known) return;
  const r = await api<{ available: boolean; balance: number | null; status: string }>(
    'GET',
    '/api/v1/balance',
  );
  if (!r.data?.available) {
    set('runway-value', 'Unknown');
    set('runway-hint', 'The account balance is not available: set MAGICHOUR_ACCOUNT_KEY to poll it.');
    return;
  }
  set('runway-value', r.data.balance === null ? 'Unknown' : `${fmtNumber(r.data.balance)} credits left`);
}

async function main(): Promise<void> {
  const forecast = loadForecast();
  await drawDaily();
  const f = await forecast;
  const canvas = canvasById('chart-forecast');
  if (canvas) drawForecast(canvas, f);
  document.addEventListener('kw:zone', () => canvas && drawForecast(canvas, f));
  const data = f.ok ? f.data : null;
  fillForecastCards(data);
  await Promise.all([
    fillBudget(!!data?.budget),
    fillRunway(data?.runway_days !== null && data?.runway_days !== undefined),
    renderSources(document.getElementById('sources')),
  ]);
}

void main();
