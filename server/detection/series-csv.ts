/** CSV in and out for `keywatch detect series`: `timestamp,value` -> `timestamp,value,anomaly_score,is_anomaly`. */

import { validationError } from '../errors.ts';
import { detectSeries, type SeriesRow } from './core/series.ts';

/** Timestamps as NAB writes them ("2015-02-26 21:42:53", read as UTC), ISO-8601, or epoch ms. */
export function parseTimestamp(text: string): number {
  const t = text.trim();
  if (/^\d{1,16}$/.test(t)) return Number(t);
  const iso = /[zZ]|[+-]\d{2}:?\d{2}$/.test(t) ? t : `${t.replace(' ', 'T')}Z`;
  return Date.parse(iso);
}

export function scoreSeriesCsv(csv: string): string {
  const lines = csv.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = lines[0]?.toLowerCase().replace(/\s/g, '') ?? '';
  if (!header.startsWith('timestamp,value')) {
    throw validationError([{ path: 'header', message: 'the first line must be "timestamp,value"' }]);
  }
  const raw: string[] = [];
  const rows: SeriesRow[] = [];
  lines.slice(1).forEach((line, i) => {
    const [ts, value] = line.split(',');
    const ms = parseTimestamp(ts ?? '');
    const v = Number(value);
    if (Number.isNaN(ms) || value === undefined || value.trim() === '' || Number.isNaN(v)) {
      throw validationError([{ path: `line ${i + 2}`, message: 'expected timestamp,value' }]);
    }
    raw.push(`${ts!.trim()},${value.trim()}`);
    rows.push({ ts: ms, value: v });
  });
  const scores = detectSeries(rows);
  const out = ['timestamp,value,anomaly_score,is_anomaly'];
  scores.forEach((s, i) => {
    out.push(`${raw[i]},${s.score.toFixed(6)},${s.anomaly ? 1 : 0}`);
  });
  return `${out.join('\n')}\n`;
}
