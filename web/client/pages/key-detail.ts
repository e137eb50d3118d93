/** Key detail page: usage chart with the usual range and incident markers; edit and revoke. */
import { WEEK_MS, weeklyBand } from '../lib/baseline.ts';
import { type AnyDataset, bandDatasets, canvasById, drawChart, PALETTE, showEmpty } from '../lib/charts.ts';
import {
  api,
  badge,
  el,
  empty,
  fmtNumber,
  fmtTime,
  initPage,
  isAdmin,
  say,
  table,
  timeEl,
} from '../lib/common.ts';
import type { KeyUsage } from '../lib/usage.ts';

initPage();

const RANGES = {
  '24h': { span: 86_400_000, step: 'hour', size: 3_600_000 },
  '7d': { span: WEEK_MS, step: 'hour', size: 3_600_000 },
  '30d': { span: 30 * 86_400_000, step: 'day', size: 86_400_000 },
  '90d': { span: 90 * 86_400_000, step: 'day', size: 86_400_000 },
} as const;
type RangeName = keyof typeof RANGES;

const canvas = canvasById('chart-key');
const keyId = canvas?.dataset.key ?? '';
const now = Date.parse(canvas?.dataset.now ?? '') || Date.now();
const markers = JSON.parse(canvas?.dataset.markers ?? '[]') as { at: string; kind: string; id: string }[];
let current: { range: RangeName; usage: KeyUsage; band: ReturnType<typeof weeklyBand> } | null = null;

async function load(range: RangeName): Promise<void> {
  if (!canvas) return;
  const { span, step, size } = RANGES[range];
  const to = Math.floor(now / size) * size + size;
  const from = to - span;
  // Four extra weeks before the range feed the usual-range band.
  const r = await api<KeyUsage>(
    'GET',
    `/api/v1/keys/${encodeURIComponent(keyId)}/usage?step=${step}&from=${from - 4 * WEEK_MS}&to=${to}`,
  );
  if (!r.ok || !r.data) return showEmpty(canvas, `Usage could not be loaded: ${r.error}`);
  const history = new Map(r.data.points.map((p) => [Date.parse(p.ts), p.credits]));
  const points = r.data.points.filter((p) => Date.parse(p.ts) >= from);
  current = {
    range,
    usage: { ...r.data, points },
    band: weeklyBand(
      points.map((p) => Date.parse(p.ts)),
      history,
    ),
  };
  render();
}

function render(): void {
  if (!canvas || !current) return;
  const { usage, band, range } = current;
  const { size } = RANGES[range];
  if (usage.points.every((p) => p.requests === 0)) {
    showEmpty(canvas, 'No usage in this range.');
    return;
  }
  const labels = usage.points.map((p) => fmtTime(p.ts, size >= 86_400_000 ? 'day' : 'minute'));
  const credits = usage.points.map((p) => p.credits);
  const peak = Math.max(...credits, ...(band?.high.map((v) => v ?? 0) ?? []), 1);
  const starts = usage.points.map((p) => Date.parse(p.ts));
  const marks = starts.map((t) =>
    markers.some((m) => Date.parse(m.at) >= t && Date.parse(m.at) < t + size) ? peak : null,
  );
  const datasets: AnyDataset[] = [
    ...(band ? bandDatasets(band.low, band.high, 'Usual range (same weekday or hour, 4 weeks before)') : []),
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
      label: 'Incident',
      data: marks,
      showLine: false,
      pointStyle: 'triangle',
      pointRadius: 7,
      pointBackgroundColor: '#c4231b',
      borderColor: '#c4231b',
    },
  ];
  // Credits alone on the axis: requests on a second axis made credits look flat and hid the band.
  drawChart(canvas, 'line', labels, datasets, {
    yTitle: size >= 86_400_000 ? 'credits per day' : 'credits per hour',
    legend: true,
    credits: true,
  });
}

for (const input of document.querySelectorAll<HTMLInputElement>('#range-picker input[name="range"]')) {
  input.addEventListener('change', () => input.checked && void load(input.value as RangeName));
}
document.addEventListener('kw:zone', render);
void load('30d');

// ---- edit and revoke (admins only; the form is not rendered for viewers) ----
const form = document.getElementById('key-edit') as HTMLFormElement | null;
const status = document.getElementById('key-edit-status');
const orNull = (v: FormDataEntryValue | null) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);

form?.addEventListener('submit', async (event) => {
  event.preventDefault();
  const data = new FormData(form);
  const budget = orNull(data.get('budget_credits'));
  const r = await api('PATCH', `/api/v1/keys/${encodeURIComponent(keyId)}`, {
    name: orNull(data.get('name')) ?? undefined,
    environment: orNull(data.get('environment')),
    owner: orNull(data.get('owner')),
    budget_credits: budget === null ? null : Number(budget),
    notes: orNull(data.get('notes')),
  });
  say(status, r.ok ? 'Saved.' : `Not saved: ${r.error}`, r.ok);
});

document.getElementById('key-revoke')?.addEventListener('click', async () => {
  if (!confirm('Revoke this key? Any later use will raise an incident. Revoke it at the provider too.'))
    return;
  const r = await api('POST', `/api/v1/keys/${encodeURIComponent(keyId)}/revoke`, {});
  if (r.ok) location.reload();
  else say(status, `Not revoked: ${r.error}`, false);
});

// ---- rotation assistant ----
type Rotation = {
  old_key: { id: string; name: string; status: string };
  new_key: { id: string; name: string };
  quiet_minutes: number;
  started_at: string;
  old_key_last_used_at: string | null;
  remaining_clients: {
    source_ip: string | null;
    user_agent: string | null;
    operation: string;
    requests: number;
    last_seen_at: string;
    quiet: boolean;
  }[];
  safe_to_revoke: boolean;
  safe_at: string | null;
};

const rotationBox = document.getElementById('rotation-status');
const rotationForm = document.getElementById('rotation-form') as HTMLFormElement | null;

const quietText = (minutes: number) =>
  minutes % 1440 === 0
    ? `${fmtNumber(minutes / 1440)} day${minutes === 1440 ? '' : 's'}`
    : minutes % 60 === 0
      ? `${fmtNumber(minutes / 60)} hours`
      : `${fmtNumber(minutes)} minutes`;

function renderRotation(r: Rotation): void {
  if (!rotationBox) return;
  const revoked = r.old_key.status === 'revoked';
  const verdict = revoked
    ? badge('muted', 'Old key revoked: rotation done')
    : r.safe_to_revoke
      ? badge('ok', 'Safe to revoke')
      : badge('warn', 'Not yet safe to revoke');
  const newLink = el('a', { href: `/keys/${encodeURIComponent(r.new_key.id)}` }, r.new_key.name);
  const lastUse = r.old_key_last_used_at ? timeEl(r.old_key_last_used_at) : 'never';
  const summary = el(
    'p',
    { id: 'rotation-summary' },
    verdict,
    ' Moving to ',
    newLink,
    ' since ',
    timeEl(r.started_at),
    `. Quiet time ${quietText(r.quiet_minutes)}; this key was last used `,
    lastUse,
    r.safe_at ? el('span', {}, '; safe from ', timeEl(r.safe_at), ' if nothing uses it again') : '',
    '.',
  );
  const rows = r.remaining_clients.map((c) => [
    el('code', {}, c.source_ip ?? '(not reported)'),
    el('code', {}, c.user_agent ?? '(not reported)'),
    c.operation || '(unknown)',
    fmtNumber(c.requests),
    timeEl(c.last_seen_at),
    c.quiet ? badge('ok', 'moved or idle') : badge('warn', 'still using this key'),
  ]);
  const children: Node[] = [summary];
  children.push(
    rows.length
      ? table(['Source IP', 'User agent', 'Operation', 'Requests', 'Last seen', 'State'], rows, [3])
      : empty('No client used this key in the week before the rotation or since.'),
  );
  if (isAdmin() && !revoked && r.safe_to_revoke) {
    const revoke = el(
      'button',
      { type: 'button', class: 'danger', id: 'rotation-revoke' },
      'Revoke this key now',
    );
    revoke.addEventListener('click', () => document.getElementById('key-revoke')?.click());
    children.push(el('p', {}, revoke));
  }
  rotationBox.replaceChildren(...children);
}

async function loadRotation(): Promise<void> {
  if (!rotationBox) return;
  const r = await api<Rotation>('GET', `/api/v1/keys/${encodeURIComponent(keyId)}/rotation`);
  if (r.ok && r.data) {
    renderRotation(r.data);
    if (rotationForm) rotationForm.hidden = true;
    return;
  }
  if (r.status !== 404)
    return void rotationBox.replaceChildren(empty(`Rotation could not be loaded: ${r.error}`));
  rotationBox.replaceChildren(
    el(
      'p',
      { class: 'muted' },
      isAdmin() ? 'Not being rotated. Pair it with its replacement:' : 'Not being rotated.',
    ),
  );
  if (rotationForm) rotationForm.hidden = false;
}

rotationForm?.addEventListener('submit', async (event) => {
  event.preventDefault();
  const data = new FormData(rotationForm);
  const r = await api<Rotation>('POST', `/api/v1/keys/${encodeURIComponent(keyId)}/rotation`, {
    new_key_id: String(data.get('new_key_id') ?? ''),
    quiet_minutes: Number(data.get('quiet_minutes')),
  });
  const out = document.getElementById('rotation-form-status');
  if (!r.ok || !r.data) return say(out, `Not started: ${r.error}`, false);
  rotationForm.hidden = true;
  renderRotation(r.data);
});
document.addEventListener('kw:zone', () => void loadRotation());
void loadRotation();
