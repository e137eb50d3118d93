/**
 * NAB part of `npm run eval`: scores `keywatch detect series` with the shared harness on all 45
 * series, at the threshold fixed in advance (0.5 = the detector's own decision), then splits the
 * harness's per-series numbers by category (a category's own score, and the other five's). The
 * constants were chosen looking at these series, so a category's own score here is not a held-out
 * score: tools/eval/nab-loco.ts measures that. ../shared is resolved beside the repository.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Its real path: the harness runs only when its argv path is its own (a symlinked copy would exit silently). */
export const SHARED = existsSync(resolve(REPO, '../shared'))
  ? realpathSync(resolve(REPO, '../shared'))
  : resolve(REPO, '../shared');
export const NAB_THRESHOLD = 0.5;
export const NAB_CATEGORIES = [
  'realTweets',
  'realAWSCloudwatch',
  'realKnownCause',
  'realTraffic',
  'realAdExchange',
  'artificialNoAnomaly',
] as const;

/** What the harness reports per series (its --out JSON, standard profile). */
export type SeriesResult = {
  series: string;
  windows: number;
  tpW: number;
  fpRows: number;
  nabRaw: number;
  nabNullRaw: number;
};
export type GroupScore = {
  name: string;
  series: number;
  windows: number;
  detected: number;
  fpRows: number;
  /** NAB normalised over the group (null detector 0, perfect 100); null without windows. */
  nab: number | null;
};

export function scoreGroup(name: string, rows: readonly SeriesResult[]): GroupScore {
  const sum = (f: (r: SeriesResult) => number) => rows.reduce((a, r) => a + f(r), 0);
  const windows = sum((r) => r.windows);
  const raw = sum((r) => r.nabRaw);
  const nullRaw = sum((r) => r.nabNullRaw);
  return {
    name,
    series: rows.length,
    windows,
    detected: sum((r) => r.tpW),
    fpRows: sum((r) => r.fpRows),
    nab: windows > 0 ? (100 * (raw - nullRaw)) / (windows - nullRaw) : null,
  };
}

/** Per category: its own score (held out) and the score of every other category together. */
export function scoreByCategory(rows: readonly SeriesResult[]): { held: GroupScore; rest: GroupScore }[] {
  const categoryOf = (r: SeriesResult) => r.series.split('/')[0];
  return NAB_CATEGORIES.map((c) => ({
    held: scoreGroup(
      c,
      rows.filter((r) => categoryOf(r) === c),
    ),
    rest: scoreGroup(
      `all but ${c}`,
      rows.filter((r) => categoryOf(r) !== c),
    ),
  }));
}

export function formatCategories(rows: readonly SeriesResult[]): string {
  const nab = (g: GroupScore) => (g.nab === null ? '   -  ' : g.nab.toFixed(1).padStart(6));
  const lines = ['category              series  windows  detected  FP rows     NAB  rest of NAB'];
  for (const { held, rest } of scoreByCategory(rows)) {
    lines.push(
      `${held.name.padEnd(22)}${String(held.series).padStart(6)}${String(held.windows).padStart(9)}${String(held.detected).padStart(10)}${String(held.fpRows).padStart(9)}${nab(held).padStart(8)}${nab(rest).padStart(13)}`,
    );
  }
  const all = scoreGroup('all', rows);
  lines.push(
    `${'all 45'.padEnd(22)}${String(all.series).padStart(6)}${String(all.windows).padStart(9)}${String(all.detected).padStart(10)}${String(all.fpRows).padStart(9)}${nab(all).padStart(8)}`,
  );
  return lines.join('\n');
}

/** The shipped detector: `keywatch detect series` as a user runs it. */
export const SHIPPED_DETECTOR = `"${process.execPath}" "${join(REPO, 'server/keywatch.mjs')}" detect series --input -`;

/** Runs the harness on all 45 series with `detector`; its printed summary and per-series rows. */
export function scoreWithHarness(detector: string): { ok: boolean; output: string; rows: SeriesResult[] } {
  const tool = join(SHARED, 'tools/nab-eval.mjs');
  const data = join(SHARED, 'data/nab');
  if (!existsSync(tool) || !existsSync(data))
    return { ok: false, output: `NAB harness or data not found under ${SHARED}`, rows: [] };
  // The per-series report goes to a temporary directory: nothing is cached in the repository.
  const dir = mkdtempSync(join(tmpdir(), 'keywatch-nab-'));
  const report = join(dir, 'report.json');
  try {
    const r = spawnSync(
      process.execPath,
      [
        tool,
        '--nab',
        data,
        '-d',
        detector,
        '--series',
        NAB_CATEGORIES.map((c) => `${c}/`).join(','),
        '--threshold',
        String(NAB_THRESHOLD),
        '--per-series',
        '--jobs',
        '2',
        '--out',
        report,
      ],
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
    );
    const output = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
    if (r.status !== 0 || !existsSync(report)) return { ok: false, output, rows: [] };
    const json = JSON.parse(readFileSync(report, 'utf8')) as {
      profiles: { standard: { perSeries: SeriesResult[] } };
    };
    return { ok: true, output, rows: json.profiles.standard.perSeries };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function runNab(): { ok: boolean; output: string } {
  const r = scoreWithHarness(SHIPPED_DETECTOR);
  if (!r.ok) return r;
  return {
    ok: true,
    output: `${r.output}\n\nper category, with the shipped constants (for the leave-one-category-out score, run tools/eval/nab-loco.ts):\n${formatCategories(r.rows)}`,
  };
}
