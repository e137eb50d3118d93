/**
 * Leave-one-category-out on NAB: `npx tsx tools/eval/nab-loco.ts` (about a NAB run per candidate).
 * The series detector's constants were chosen by looking at NAB, so its score on all 45 flatters
 * it. Here that choice is made again, by rule, once per category: among CANDIDATES (the shipped
 * constants and their neighbours), take the one scoring best on the other five categories, and
 * score the held-out category with it. The held-out rows together give the LOCO score: what a
 * build that never saw a category scores on it, the figure that predicts series we do not have.
 * Structural choices (which features exist) were made on all of NAB and are not re-made here.
 */
import { join } from 'node:path';
import { SERIES_DEFAULTS, type SeriesOptions } from '../../server/detection/core/series.ts';
import {
  formatCategories,
  NAB_CATEGORIES,
  REPO,
  type SeriesResult,
  scoreGroup,
  scoreWithHarness,
} from './nab-eval.ts';

const HOUR = 3_600_000;
/** The shipped constants first, then their neighbours: a decade of alpha either way, a day-long episode. */
const CANDIDATES: Partial<SeriesOptions>[] = [
  SERIES_DEFAULTS,
  { ...SERIES_DEFAULTS, shiftAlpha: SERIES_DEFAULTS.shiftAlpha * 10 },
  { ...SERIES_DEFAULTS, shiftAlpha: SERIES_DEFAULTS.shiftAlpha / 10 },
  { ...SERIES_DEFAULTS, episodeMs: 4 * SERIES_DEFAULTS.episodeMs },
];

const describe = (c: Partial<SeriesOptions>) =>
  `alpha ${c.shiftAlpha?.toExponential(0)}, episode ${((c.episodeMs ?? 0) / HOUR).toFixed(0)} h`;
const categoryOf = (r: SeriesResult) => r.series.split('/')[0];

const runs: { candidate: Partial<SeriesOptions>; rows: SeriesResult[] }[] = [];
for (const candidate of CANDIDATES) {
  const detector = `"${process.execPath}" --import tsx "${join(REPO, 'tools/eval/series-detector.ts')}" '${JSON.stringify(candidate)}'`;
  const r = scoreWithHarness(detector);
  if (!r.ok) {
    console.error(r.output);
    process.exit(1);
  }
  runs.push({ candidate, rows: r.rows });
  console.log(`${describe(candidate).padEnd(28)} all 45: ${scoreGroup('all', r.rows).nab!.toFixed(1)}`);
}

const held: SeriesResult[] = [];
console.log('\nheld-out category      chosen on the other five       their score  held-out score');
for (const c of NAB_CATEGORIES) {
  const restScore = (rows: SeriesResult[]) =>
    scoreGroup(
      'rest',
      rows.filter((r) => categoryOf(r) !== c),
    ).nab ?? Number.NEGATIVE_INFINITY;
  const best = runs.reduce((a, b) => (restScore(b.rows) > restScore(a.rows) ? b : a));
  const own = best.rows.filter((r) => categoryOf(r) === c);
  held.push(...own);
  const ownScore = scoreGroup(c, own).nab;
  console.log(
    `${c.padEnd(22)} ${describe(best.candidate).padEnd(30)} ${restScore(best.rows).toFixed(1).padStart(11)}  ${ownScore === null ? '  - (no windows)' : ownScore.toFixed(1).padStart(14)}`,
  );
}
console.log(
  `\nleave-one-category-out, all 45 held-out rows together: ${scoreGroup('loco', held).nab!.toFixed(1)}`,
);
console.log(`shipped constants on all 45: ${scoreGroup('all', runs[0]!.rows).nab!.toFixed(1)}`);
console.log(`\nheld-out rows by category:\n${formatCategories(held)}`);
