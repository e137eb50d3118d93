/**
 * The series detector as the NAB harness calls it, with a candidate's constants:
 * `node --import tsx tools/eval/series-detector.ts '{"shiftAlpha":1e-3}' < series.csv`.
 * Same parsing and scoring as `keywatch detect series`; prints one score per row.
 */
import { readFileSync } from 'node:fs';
import { detectSeries, type SeriesOptions, type SeriesRow } from '../../server/detection/core/series.ts';
import { parseTimestamp } from '../../server/detection/series-csv.ts';

const options = JSON.parse(process.argv[2] ?? '{}') as Partial<SeriesOptions>;
const lines = readFileSync(0, 'utf8')
  .split(/\r?\n/)
  .filter((l) => l.trim() !== '');
const rows: SeriesRow[] = lines.slice(1).map((line) => {
  const [ts, value] = line.split(',');
  return { ts: parseTimestamp(ts ?? ''), value: Number(value) };
});
const scores = detectSeries(rows, undefined, options);
process.stdout.write(`${scores.map((s) => s.score.toFixed(6)).join('\n')}\n`);
