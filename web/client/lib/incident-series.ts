/**
 * The incident chart's series at the detector's own resolution: usage points summed into buckets
 * as long as the window the detector judged, aligned so the judged window is exactly one bucket.
 * Pure; the spec is built on the server (web/pages/incident-chart.ts) from the incident's details.
 */

/** What the detector judged, as the chart needs it. Times are epoch ms; amounts are per bucket. */
export type IncidentChartSpec = {
  key_id: string | null;
  /** The usage field the detector counted. */
  field: 'credits' | 'requests' | 'auth_failures';
  /** The usage API step to fetch before summing into buckets. */
  step: 'minute' | 'hour' | 'day';
  bucket_ms: number;
  /** Chart range, on bucket edges. */
  from: number;
  to: number;
  /** The incident window (first anomalous bucket to last seen). */
  window: { from: number; to: number };
  /** The usual amount per bucket and its range, where the detector judged; null when it has none. */
  expected: number | null;
  low: number | null;
  high: number | null;
  /** "Credits per 15 minutes". */
  axis_title: string;
  /** "Usual range for 15 minutes at this hour of the week". */
  band_label: string;
};

export type SeriesPoint = { ts: string; credits: number; requests: number; auth_failures: number };

export type IncidentSeries = {
  starts: number[];
  values: number[];
  /** True for buckets that overlap the incident window: where the band and the marking go. */
  judged: boolean[];
};

export function incidentSeries(points: SeriesPoint[], spec: IncidentChartSpec): IncidentSeries {
  const size = spec.bucket_ms;
  const n = Math.max(1, Math.round((spec.to - spec.from) / size));
  const starts = Array.from({ length: n }, (_, k) => spec.from + k * size);
  const values = starts.map(() => 0);
  for (const p of points) {
    const k = Math.floor((Date.parse(p.ts) - spec.from) / size);
    if (k >= 0 && k < n) values[k]! += p[spec.field];
  }
  const judged = starts.map((t) => t < spec.window.to && t + size > spec.window.from);
  return { starts, values, judged };
}
