/** Incident detail: the window's chart against the expected range, and the alert actions. */
import { type AnyDataset, canvasById, drawChart, PALETTE, showEmpty } from '../lib/charts.ts';
import { api, badge, fmtTime, initPage, say, timeEl } from '../lib/common.ts';
import type { KeyUsage } from '../lib/usage.ts';

initPage();

type Details = {
  window?: { from: string; to: string };
  unit?: string;
  baseline?: { expected?: number; low?: number; high?: number };
};
type Info = {
  key_id: string | null;
  started_at: string;
  last_seen_at: string;
  resolved_at: string | null;
  details: Details;
  expected: number;
};
type IncidentView = {
  id: string;
  state: string;
  acknowledged_by: string | null;
  acknowledged_at: string | null;
};

const HOUR = 3_600_000;
const canvas = canvasById('chart-incident');
const info = JSON.parse(canvas?.dataset.incident ?? 'null') as Info | null;

function windowOf(i: Info): { from: number; to: number } {
  const from = Date.parse(i.details.window?.from ?? i.started_at);
  const to = Date.parse(i.details.window?.to ?? i.resolved_at ?? i.last_seen_at);
  return { from, to: Math.max(to, from + 60_000) };
}

/** The chart's bucket follows the detector's unit, so the expected line compares like with like. */
function stepFor(span: number, unit = ''): { step: string; size: number } {
  if (/\/\s*min/.test(unit)) return { step: 'minute', size: 60_000 };
  if (/\/\s*h/.test(unit)) return { step: 'hour', size: HOUR };
  if (/\/\s*d/.test(unit)) return { step: 'day', size: 24 * HOUR };
  if (span <= 12 * HOUR) return { step: 'minute', size: 60_000 };
  if (span <= 10 * 24 * HOUR) return { step: 'hour', size: HOUR };
  return { step: 'day', size: 24 * HOUR };
}

let usage: KeyUsage | null = null;

async function load(): Promise<void> {
  if (!canvas || !info) return;
  const w = windowOf(info);
  const unit = info.details.unit;
  const coarse = /\/\s*[hd]/.test(unit ?? '');
  const pad = Math.max(coarse ? 12 * HOUR : 2 * HOUR, 2 * (w.to - w.from));
  const from = w.from - pad;
  const to = w.to + pad;
  const { step, size } = stepFor(to - from, unit);
  const base = info.key_id ? `/api/v1/keys/${encodeURIComponent(info.key_id)}/usage` : '/api/v1/usage';
  const r = await api<KeyUsage>(
    'GET',
    `${base}?step=${step}&from=${Math.floor(from / size) * size}&to=${to}`,
  );
  if (!r.ok || !r.data) return showEmpty(canvas, `Usage around the incident could not be loaded: ${r.error}`);
  usage = r.data;
  render();
}

function render(): void {
  if (!canvas || !info || !usage) return;
  const w = windowOf(info);
  const size = usage.step === 'minute' ? 60_000 : usage.step === 'hour' ? HOUR : 24 * HOUR;
  const credits = usage.points.map((p) => p.credits);
  const b = info.details.baseline ?? {};
  const peak = Math.max(...credits, b.high ?? 0, 1);
  const inWindow = usage.points.map((p) => {
    const t = Date.parse(p.ts);
    return t + size > w.from && t <= w.to ? peak : null;
  });
  const flat = (v: number | undefined) => usage!.points.map(() => v ?? null);
  const datasets: AnyDataset[] = [
    {
      type: 'bar',
      label: 'Incident window',
      data: inWindow,
      backgroundColor: 'rgba(196, 35, 27, 0.10)',
      barPercentage: 1,
      categoryPercentage: 1,
    },
    {
      type: 'line',
      label: 'Credits',
      data: credits,
      borderColor: PALETTE[0],
      backgroundColor: PALETTE[0],
      pointRadius: 0,
      borderWidth: 2,
    },
    {
      type: 'line',
      label: 'Expected',
      data: flat(b.expected ?? info.expected),
      borderColor: PALETTE[2],
      pointRadius: 0,
      borderWidth: 1.5,
      borderDash: [6, 4],
    },
  ];
  if (b.high !== undefined) {
    datasets.push({
      type: 'line',
      label: 'Usual high',
      data: flat(b.high),
      borderColor: PALETTE[4],
      pointRadius: 0,
      borderWidth: 1,
      borderDash: [2, 3],
    });
  }
  const style = usage.step === 'day' ? 'day' : 'minute';
  drawChart(
    canvas,
    'line',
    usage.points.map((p) => fmtTime(p.ts, style)),
    datasets,
    { yTitle: 'credits', legend: true },
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
