/**
 * PURE: what the incident chart plots, from the incident's details. The detector's expected, low
 * and high are amounts over the window it judged (peak_window: 1 to 60 minutes for a spike, the
 * whole rise for sustained elevation), in its unit; the chart plots buckets of that length so the
 * band compares like with like. Windows longer than an hour are shown hour by hour (the
 * sustained-elevation detector judges hours), with the amounts scaled to an hour on average.
 */
import { bandName } from '../../server/incidents/band-name.ts';
import type { IncidentView } from '../../server/incidents/view.ts';
import type { IncidentChartSpec } from '../client/lib/incident-series.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Enough buckets either side to see what normal looked like, few enough to read. */
const PAD_BUCKETS = 12;
const MAX_BUCKETS = 480;

const FIELDS: Record<string, IncidentChartSpec['field']> = {
  credits: 'credits',
  requests: 'requests',
  auth_failures: 'auth_failures',
};
const UNIT_WORDS: Record<IncidentChartSpec['field'], string> = {
  credits: 'Credits',
  requests: 'Requests',
  auth_failures: 'Rejected requests',
};

export function bucketWords(ms: number): string {
  if (ms === MINUTE) return 'minute';
  if (ms === HOUR) return 'hour';
  if (ms === DAY) return 'day';
  return ms % HOUR === 0 ? `${ms / HOUR} hours` : `${Math.round(ms / MINUTE)} minutes`;
}

/** The coarsest stored step whose buckets fit inside ours exactly (an hour ending at :42 needs minutes). */
function fetchStep(bucket: number, anchor: number): IncidentChartSpec['step'] {
  const fits = (size: number) => bucket % size === 0 && anchor % size === 0;
  return fits(DAY) ? 'day' : fits(HOUR) ? 'hour' : 'minute';
}

const parse = (iso: string | undefined, fallback: number) => {
  const t = iso ? Date.parse(iso) : Number.NaN;
  return Number.isFinite(t) ? t : fallback;
};

/**
 * Null when no usage series holds what the detector counted: unattributed credits and networks
 * of unknown keys are not one key's usage, and the account's total would tell a different story.
 */
export function incidentChartSpec(i: IncidentView): IncidentChartSpec | null {
  if (!i.key_id && !i.kind.startsWith('budget_')) return null;
  const d = i.details;
  const started = parse(i.started_at, 0);
  const window = {
    from: parse(d.window?.from, started),
    to: Math.max(parse(d.window?.to, parse(i.last_seen_at, started)), started + MINUTE),
  };
  const field = FIELDS[d.unit ?? 'credits'] ?? 'credits';
  const peak = d.peak_window && { from: parse(d.peak_window.from, 0), to: parse(d.peak_window.to, 0) };
  // Budgets judge a month, and older incidents have no judged window: plain usage, no band.
  const judged = !i.kind.startsWith('budget_') && peak && peak.to > peak.from ? peak : null;
  const length = judged ? judged.to - judged.from : i.kind.startsWith('budget_') ? DAY : HOUR;
  const bucket = Math.min(length, judged ? HOUR : DAY);
  const scale = bucket / length;
  const per = (v: number | undefined) => (judged && v !== undefined ? v * scale : null);
  // Buckets end where the judged window ends; without one, on UTC hour or day edges.
  const anchor = judged?.to ?? 0;
  const edge = (t: number) => anchor + Math.floor((t - anchor) / bucket) * bucket;
  const first = Math.min(window.from, judged?.from ?? window.from);
  const last = Math.max(window.to, judged?.to ?? window.to);
  const span = Math.ceil((last - first) / bucket);
  const pad = Math.max(0, Math.min(PAD_BUCKETS, Math.floor((MAX_BUCKETS - span) / 2))) * bucket;
  const method = bandName(d.baseline?.method);
  return {
    key_id: i.key_id,
    field,
    step: fetchStep(bucket, anchor),
    bucket_ms: bucket,
    from: edge(Math.max(first - pad, last - MAX_BUCKETS * bucket)),
    to: edge(last - 1) + bucket + pad,
    window,
    expected: per(d.baseline?.expected ?? i.expected),
    low: per(d.baseline?.low),
    high: per(d.baseline?.high),
    axis_title: `${UNIT_WORDS[field]} per ${bucketWords(bucket)}`,
    band_label: `${method.charAt(0).toUpperCase()}${method.slice(1)}${scale < 1 ? ', per hour on average' : ''}`,
  };
}

/** The caption under the chart: what one point is, what is shaded, what is marked. */
export function chartNote(spec: IncidentChartSpec): string {
  const size = bucketWords(spec.bucket_ms);
  const one = /^\d/.test(size) ? size : `one ${size}`;
  const unit = spec.axis_title.split(' per ')[0]!.toLowerCase();
  const what =
    spec.expected === null
      ? `Each point is ${one} of ${unit}.`
      : `Each point is ${one} of ${unit}, as the detector judged them.`;
  const band = spec.high !== null && spec.high > 0 ? ` Shaded: ${spec.band_label}.` : '';
  return `${what}${band} The incident window is marked in red.`;
}
