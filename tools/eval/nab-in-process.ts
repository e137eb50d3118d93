/**
 * The series detector scored on NAB inside this process: detectSeries() on each of the 45 series
 * and the shared harness's own scoring functions (sweep, threshold row, window P/R), so the numbers
 * are the harness's; only the child process per series (and its start-up, most of a harness run on
 * 2 cores) is gone. tools/eval/nab.ts still scores the shipped command itself.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { detectSeries, type SeriesOptions, type SeriesScore } from '../../server/detection/core/series.ts';
import { parseTimestamp } from '../../server/detection/series-csv.ts';
import { NAB_CATEGORIES, NAB_THRESHOLD, type SeriesResult, SHARED } from './nab-eval.ts';

type Cost = { tpWeight: number; fnWeight: number; fpWeight: number };
/** One row as NAB's sweep weighs it: its score, its weight, its window (null outside, or 'probationary'). */
export type SweepPoint = { s: number; w: number; win: string | null };
type Harness = {
  loadLabels(dir: string): Record<string, [string, string][]>;
  loadProfiles(dir: string): { standard: { CostMatrix: Cost } };
  resolveSeries(spec: string, labels: Record<string, unknown>): string[];
  readSeries(dir: string, rel: string): { ts: string[]; vals: number[] };
  windowsToIndices(ts: string[], w: [string, string][], rel: string): [number, number][];
  calcSweepScore(scores: Float64Array, windows: [number, number][], name: string, cost: Cost): SweepPoint[];
  calcScoreByThreshold(points: SweepPoint[], cost: Cost): { threshold: number; score: number }[];
  rowAtThreshold(rows: { threshold: number; score: number }[], t: number): { score: number };
  windowPRF(
    scores: Float64Array,
    windows: [number, number][],
    threshold: number,
  ): { windows: number; tpW: number; fpRows: number };
};

/** A series' harness result, with the detector's rows and NAB's weights for looking closer. */
export type ScoredSeries = SeriesResult & { detected: SeriesScore[]; points: SweepPoint[]; cost: Cost };

export async function scoreInProcess(options: Partial<SeriesOptions> = {}): Promise<ScoredSeries[]> {
  const h = (await import(pathToFileURL(join(SHARED, 'tools/nab-eval.mjs')).href)) as Harness;
  const dir = join(SHARED, 'data/nab');
  const labels = h.loadLabels(dir);
  const cost = h.loadProfiles(dir).standard.CostMatrix;
  return h.resolveSeries(NAB_CATEGORIES.map((c) => `${c}/`).join(','), labels).map((rel) => {
    const s = h.readSeries(dir, rel);
    const windows = h.windowsToIndices(s.ts, labels[rel] ?? [], rel);
    const rows = s.ts.map((t, i) => ({ ts: parseTimestamp(t), value: s.vals[i]! }));
    const detected = detectSeries(rows, undefined, options);
    const scores = Float64Array.from(detected, (x) => x.score);
    const points = h.calcSweepScore(scores, windows, rel, cost);
    const byThreshold = h.calcScoreByThreshold(points, cost);
    const prf = h.windowPRF(scores, windows, NAB_THRESHOLD);
    return {
      series: rel,
      windows: prf.windows,
      tpW: prf.tpW,
      fpRows: prf.fpRows,
      nabRaw: h.rowAtThreshold(byThreshold, NAB_THRESHOLD).score,
      // Threshold 1.1: nothing flagged, the null detector.
      nabNullRaw: byThreshold[0]!.score,
      detected,
      points,
      cost,
    };
  });
}
