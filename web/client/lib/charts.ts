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
import { fmtNumber } from './common.ts';

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
Chart.defaults.color = '#3d4451';
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
export const BAND = 'rgba(11, 107, 203, 0.14)';

export type AnyDataset = ChartDataset<'bar' | 'line', (number | null)[]>;

const charts = new Map<HTMLCanvasElement, Chart>();
addEventListener('pagehide', () => {
  for (const chart of charts.values()) chart.destroy();
  charts.clear();
});

export type ChartOptions = { stacked?: boolean; yTitle?: string; y2Title?: string; legend?: boolean };

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
    return existing;
  }
  const tick = (v: string | number) => fmtNumber(Number(v));
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
          callbacks: { label: (item) => `${item.dataset.label ?? ''}: ${fmtNumber(Number(item.raw ?? 0))}` },
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
          ticks: { callback: tick },
          title: { display: !!options.yTitle, text: options.yTitle ?? '' },
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
