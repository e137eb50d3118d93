/**
 * Where the series detector loses NAB points: `npx tsx tools/eval/nab-where.ts [options-json] [--rows]`.
 * Runs detectSeries() in this process (no child per series, so a run takes a fraction of the
 * harness's) and scores it with the shared harness's own functions, then splits each category's
 * loss into: windows missed (-1 each), late detections (the part of +1 a first detection inside its
 * window did not earn), and false positives (rows flagged outside windows, by NAB's weights), with
 * the controls' FPs apart. Not the reported score: tools/eval/nab.ts runs the shipped command.
 * `--rows` also prints every series with its windows' first-detection positions and FP rows.
 */
import type { SeriesOptions } from '../../server/detection/core/series.ts';
import { NAB_CATEGORIES, NAB_THRESHOLD } from './nab-eval.ts';
import { scoreInProcess } from './nab-in-process.ts';

const args = process.argv.slice(2);
const showRows = args.includes('--rows');
const options = JSON.parse(args.find((a) => a.startsWith('{')) ?? '{}') as Partial<SeriesOptions>;
const scored = await scoreInProcess(options);
const cost = scored[0]!.cost;

/** Which evidence made the first detection in a window, and the false ones. */
const tpBy = new Map<string, number>();
const fpBy = new Map<string, number>();
const tally = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);

type Loss = { windows: number; raw: number; nullRaw: number; missed: number; late: number; fp: number };
const zero = (): Loss => ({ windows: 0, raw: 0, nullRaw: 0, missed: 0, late: 0, fp: 0 });
const byCategory = new Map<string, Loss>(NAB_CATEGORIES.map((c) => [c, zero()]));
const all = zero();

for (const { series: rel, detected, points, nabRaw: raw, nabNullRaw: nullRaw } of scored) {
  // The same sums as the harness, split by cause.
  const best = new Map<string, number>();
  let fp = 0;
  const fpAt: string[] = [];
  points.forEach((p, i) => {
    if (p.win === 'probationary' || p.s < NAB_THRESHOLD) return;
    const by = (detected[i]!.by ?? '?').split(' ').slice(0, 2).join(' ');
    if (p.win === null) {
      fp += p.w;
      fpAt.push(`${i}(${p.w.toFixed(2)})`);
      tally(fpBy, by);
    } else {
      if (!best.has(p.win)) tally(tpBy, by);
      best.set(p.win, Math.max(best.get(p.win) ?? Number.NEGATIVE_INFINITY, p.w));
    }
  });
  const scoredWindows = [...new Set(points.map((p) => p.win).filter((w) => w && w !== 'probationary'))];
  let missed = 0;
  let late = 0;
  const firsts: string[] = [];
  for (const w of scoredWindows) {
    const b = best.get(w!);
    if (b === undefined) {
      missed++;
      firsts.push('miss');
    } else {
      late += 1 - b;
      firsts.push(b.toFixed(2));
    }
  }
  const cat = rel.split('/')[0]!;
  for (const l of [byCategory.get(cat)!, all]) {
    l.windows += scoredWindows.length;
    l.raw += raw;
    l.nullRaw += nullRaw;
    l.missed += missed;
    l.late += late;
    l.fp += fp;
  }
  if (showRows)
    console.log(
      `${rel.padEnd(56)} raw ${raw.toFixed(2).padStart(6)}  windows [${firsts.join(' ')}]  fp ${fp.toFixed(2)} ${fpAt.slice(0, 12).join(' ')}${fpAt.length > 12 ? ' ...' : ''}`,
    );
}

const nab = (l: Loss) => (l.windows > 0 ? (100 * (l.raw - l.nullRaw)) / (l.windows - l.nullRaw) : Number.NaN);
/** Points a cause costs, on the category's normalised scale. */
const pts = (l: Loss, x: number) => (l.windows > 0 ? (100 * x) / (l.windows - l.nullRaw) : x);
console.log('category               windows    NAB   missed (pts)   late (pts)   FP (pts)');
for (const [c, l] of [...byCategory, ['all', all] as const]) {
  console.log(
    `${c.padEnd(22)} ${String(l.windows).padStart(7)} ${nab(l).toFixed(1).padStart(6)}   ${String(l.missed).padStart(3)} (${pts(
      l,
      l.missed * cost.fnWeight,
    )
      .toFixed(1)
      .padStart(5)})   ${pts(l, l.late).toFixed(1).padStart(9)}   ${pts(l, -l.fp).toFixed(1).padStart(8)}`,
  );
}
const tallied = (m: Map<string, number>) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k}: ${n}`)
    .join(', ');
console.log(`first detections in windows by evidence: ${tallied(tpBy)}`);
console.log(`false detections by evidence: ${tallied(fpBy)}`);
