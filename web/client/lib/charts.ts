/** Chart.js with only the parts we use; one chart per canvas, updated in place, destroyed on page hide. */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  type ChartDataset,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from 'chart.js';
import { creditPrice, el, fmtMoney, fmtNumber } from './common.ts';

Chart.register(
  BarController,
  BarElement,
  LineController,
  LineElement,
  PointElement,
  CategoryScale,
  LinearScale,
  Filler,
  Tooltip,
  Legend,
);
Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
// Ink and grid from the stylesheet, so charts follow the light or dark scheme.
const css = getComputedStyle(document.documentElement);
Chart.defaults.color = css.getPropertyValue('--chart-ink').trim() || '#3d4451';
Chart.defaults.borderColor = css.getPropertyValue('--chart-grid').trim() || 'rgba(0, 0, 0, 0.1)';
Chart.defaults.animation = false;

/** Colour-blind-friendly palette (Okabe–Ito plus neutrals), dark enough on white. */
export const PALETTE = [
  '#0b6bcb',
  '#d55e00',
  '#009e73',
  '#cc79a7',
  '#7a5c00',
  '#56b4e9',
  '#8a3ffc',
  '#4d5562',
  '#e69f00',
  '#1f8a8a',
];
export const BAND = 'rgba(86, 160, 235, 0.28)';

export type AnyDataset = ChartDataset<'bar' | 'line', (number | null)[]>;

const charts = new Map<HTMLCanvasElement, Chart>();
addEventListener('pagehide', () => {
  for (const chart of charts.values()) chart.destroy();
  charts.clear();
});

export type ChartOptions = {
  stacked?: boolean;
  yTitle?: string;
  y2Title?: string;
  legend?: boolean;
  /** The y axis counts credits: with a configured price, its ticks and tooltips show money too. */
  credits?: boolean;
};

/** Draws on a canvas the first time, then replaces labels and datasets and updates in place. */
export function drawChart(
  canvas: HTMLCanvasElement,
  type: 'bar' | 'line',
  labels: string[],
  datasets: AnyDataset[],
  options: ChartOptions = {},
): Chart {
  showChart(canvas);
  const existing = charts.get(canvas);
  if (existing) {
    existing.data.labels = labels;
    existing.data.datasets = datasets as never;
    existing.update();
    writeDataTable(canvas, labels, datasets);
    return existing;
  }
  const tick = (v: string | number) => fmtNumber(Number(v));
  const price = options.credits ? creditPrice() : undefined;
  // Money under each credit tick: one axis, so the two can never disagree.
  const creditTick = (v: string | number) =>
    price === undefined ? tick(v) : [tick(v), fmtMoney(Number(v) * price)];
  const tooltipValue = (raw: unknown) => {
    const n = Number(raw ?? 0);
    return price === undefined ? fmtNumber(n) : `${fmtNumber(n)} (${fmtMoney(n * price)})`;
  };
  writeDataTable(canvas, labels, datasets);
  const chart = new Chart(canvas, {
    type,
    data: { labels, datasets: datasets as never },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: 'index', intersect: false },
      plugins: {
        legend: {
          display: options.legend ?? datasets.length > 1,
          position: 'bottom',
          labels: { boxWidth: 12, filter: (item) => !item.text.endsWith('(low)') },
        },
        tooltip: {
          callbacks: { label: (item) => `${item.dataset.label ?? ''}: ${tooltipValue(item.raw)}` },
        },
      },
      scales: {
        x: {
          stacked: options.stacked ?? false,
          ticks: { maxRotation: 0, autoSkipPadding: 12 },
          grid: { display: false },
        },
        y: {
          stacked: options.stacked ?? false,
          beginAtZero: true,
          // Two-line ticks (credits and money) need fewer of them to stay legible.
          ticks: { callback: creditTick, ...(price !== undefined && { maxTicksLimit: 6 }) },
          title: {
            display: !!options.yTitle,
            text:
              price === undefined || !options.yTitle ? (options.yTitle ?? '') : `${options.yTitle} (and USD)`,
          },
        },
        ...(options.y2Title && {
          y2: {
            position: 'right' as const,
            beginAtZero: true,
            grid: { drawOnChartArea: false },
            ticks: { callback: tick },
            title: { display: true, text: options.y2Title },
          },
        }),
      },
    },
  });
  charts.set(canvas, chart);
  return chart;
}

const emptyFor = (canvas: HTMLCanvasElement) => document.getElementById(`${canvas.id}-empty`);

/** Hides the chart and explains why (no data yet, endpoint not there yet...). */
export function showEmpty(canvas: HTMLCanvasElement, message: string): void {
  charts.get(canvas)?.destroy();
  charts.delete(canvas);
  document.getElementById(`${canvas.id}-table`)?.remove();
  canvas.parentElement?.setAttribute('hidden', '');
  const note = emptyFor(canvas);
  if (note) {
    note.textContent = message;
    note.hidden = false;
  }
}

function showChart(canvas: HTMLCanvasElement): void {
  canvas.parentElement?.removeAttribute('hidden');
  const note = emptyFor(canvas);
  if (note) note.hidden = true;
}

export function canvasById(id: string): HTMLCanvasElement | null {
  return document.getElementById(id) as HTMLCanvasElement | null;
}

/** The band between low and high: two datasets, the second filled down to the first. */
export function bandDatasets(
  low: (number | null)[],
  high: (number | null)[],
  label = 'Usual range',
): AnyDataset[] {
  return [
    {
      type: 'line',
      label: `${label} (low)`,
      data: low,
      borderWidth: 0,
      pointRadius: 0,
      fill: false,
      borderColor: 'transparent',
    },
    {
      type: 'line',
      label,
      data: high,
      borderWidth: 0,
      pointRadius: 0,
      fill: '-1',
      backgroundColor: BAND,
      borderColor: 'transparent',
    },
  ];
}

/**
 * The chart's numbers as a table for screen readers (the canvas itself is one image): one row per
 * label, one column per dataset; a band's lower edge joins its upper one as "low–high".
 */
function writeDataTable(canvas: HTMLCanvasElement, labels: string[], datasets: AnyDataset[]): void {
  const id = `${canvas.id}-table`;
  let holder = document.getElementById(id);
  if (!holder) {
    holder = el('div', { id, class: 'sr-only' });
    canvas.closest('figure')?.append(holder);
  }
  const columns: { label: string; value: (i: number) => string }[] = [];
  const cell = (v: number | null | undefined) => (v === null || v === undefined ? '—' : fmtNumber(Number(v)));
  datasets.forEach((d, n) => {
    const label = d.label ?? '';
    if (label.endsWith('(low)')) return;
    const low = datasets[n - 1];
    const data = d.data as (number | null)[];
    if (low?.label === `${label} (low)`) {
      const lows = low.data as (number | null)[];
      columns.push({ label, value: (i) => `${cell(lows[i])}–${cell(data[i])}` });
    } else columns.push({ label, value: (i) => cell(data[i]) });
  });
  const caption = canvas.getAttribute('aria-label') ?? '';
  holder.replaceChildren(
    el(
      'table',
      {},
      el('caption', {}, `${caption} (data table)`),
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          el('th', { scope: 'col' }, ''),
          ...columns.map((c) => el('th', { scope: 'col' }, c.label)),
        ),
      ),
      el(
        'tbody',
        {},
        ...labels.map((l, i) =>
          el('tr', {}, el('th', { scope: 'row' }, l), ...columns.map((c) => el('td', {}, c.value(i)))),
        ),
      ),
    ),
  );
}
