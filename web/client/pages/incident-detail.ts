/** Incident detail: the chart at the detector's own resolution and unit, and the alert actions. */
import { type AnyDataset, bandDatasets, canvasById, drawChart, PALETTE, showEmpty } from '../lib/charts.ts';
import { api, badge, fmtNumber, fmtTime, initPage, say, timeEl } from '../lib/common.ts';
import { type IncidentChartSpec, incidentSeries, type SeriesPoint } from '../lib/incident-series.ts';

initPage();

type IncidentView = {
  id: string;
  state: string;
  acknowledged_by: string | null;
  acknowledged_at: string | null;
};

const canvas = canvasById('chart-incident');
const spec = JSON.parse(canvas?.dataset.spec ?? 'null') as IncidentChartSpec | null;
let points: SeriesPoint[] | null = null;

async function load(): Promise<void> {
  if (!canvas || !spec) return;
  const base = spec.key_id ? `/api/v1/keys/${encodeURIComponent(spec.key_id)}/usage` : '/api/v1/usage';
  const r = await api<{ points: SeriesPoint[] }>(
    'GET',
    `${base}?step=${spec.step}&from=${spec.from}&to=${spec.to}`,
  );
  if (!r.ok || !r.data) return showEmpty(canvas, `Usage around the incident could not be loaded: ${r.error}`);
  points = r.data.points;
  render();
}

function render(): void {
  if (!canvas || !spec || !points) return;
  const s = incidentSeries(points, spec);
  const where = (v: number | null) => s.judged.map((j) => (j && v !== null ? v : null));
  const top = Math.max(...s.values, spec.high ?? 0, spec.expected ?? 0, 1);
  const band = spec.low !== null && spec.high !== null && spec.high > 0;
  const datasets: AnyDataset[] = [
    {
      type: 'bar',
      label: 'Incident window',
      data: s.judged.map((j) => (j ? top : null)),
      backgroundColor: 'rgba(196, 35, 27, 0.10)',
      barPercentage: 1,
      categoryPercentage: 1,
    },
    ...(band ? bandDatasets(where(spec.low), where(spec.high), spec.band_label) : []),
    {
      type: 'line',
      label: spec.axis_title,
      data: s.values,
      borderColor: PALETTE[0],
      backgroundColor: PALETTE[0],
      pointRadius: 0,
      borderWidth: 2,
    },
  ];
  if (spec.expected !== null) {
    datasets.push({
      type: 'line',
      label: 'Usual',
      data: where(spec.expected),
      borderColor: PALETTE[2],
      pointRadius: 0,
      borderWidth: 1.5,
      borderDash: [6, 4],
    });
  }
  const style = spec.step === 'day' ? 'day' : 'minute';
  drawChart(
    canvas,
    'line',
    s.starts.map((t) => fmtTime(t, style)),
    datasets,
    { yTitle: spec.axis_title, legend: true },
  );
  // The description says what is drawn, so a screen reader hears the same unit and range.
  const shaded = band ? `; shaded: ${spec.band_label}` : '';
  const highest = fmtNumber(Math.max(...s.values));
  canvas.setAttribute(
    'aria-label',
    `${spec.axis_title} around the incident window, highest ${highest}${shaded}.`,
  );
}

document.addEventListener('kw:zone', render);
void load();

// ---- actions (the alerts module answers them at /api/v1/incidents/:id/<action>) ----
const form = document.getElementById('incident-actions') as HTMLFormElement | null;
const status = document.getElementById('incident-status');
const STATE_TONE: Record<string, string> = {
  open: 'bad',
  acknowledged: 'warn',
  snoozed: 'muted',
  resolved: 'ok',
};

function bodyFor(action: string, data: FormData): Record<string, unknown> {
  const note = String(data.get('note') ?? '').trim();
  const withNote = note ? { note } : {};
  if (action === 'snooze') return { minutes: Number(data.get('minutes')), ...withNote };
  if (action === 'feedback') return { feedback: String(data.get('feedback')), ...withNote };
  return withNote;
}

const DONE: Record<string, string> = {
  ack: 'Acknowledged.',
  snooze: 'Snoozed.',
  resolve: 'Resolved.',
  feedback: 'Feedback recorded.',
};

for (const button of form?.querySelectorAll<HTMLButtonElement>('button[data-action]') ?? []) {
  button.addEventListener('click', async () => {
    if (!form) return;
    const action = button.dataset.action ?? '';
    button.disabled = true;
    say(status, 'Sending…');
    const r = await api<{ incident: IncidentView }>(
      'POST',
      `/api/v1/incidents/${encodeURIComponent(form.dataset.incidentId ?? '')}/${action}`,
      bodyFor(action, new FormData(form)),
    );
    if (!r.ok || !r.data) {
      button.disabled = false;
      return say(status, `Not done: ${r.error}`, false);
    }
    const i = r.data.incident;
    document
      .getElementById('incident-state')
      ?.replaceChildren(badge(STATE_TONE[i.state] ?? 'muted', i.state));
    if (i.acknowledged_by) {
      document
        .getElementById('incident-ack')
        ?.replaceChildren(`${i.acknowledged_by}, `, timeEl(i.acknowledged_at));
    }
    for (const b of form.querySelectorAll<HTMLButtonElement>('button[data-action]')) {
      const a = b.dataset.action;
      b.disabled =
        (a === 'ack' && i.state !== 'open') ||
        ((a === 'snooze' || a === 'resolve') && i.state === 'resolved');
    }
    say(status, DONE[action] ?? 'Done.');
  });
}
