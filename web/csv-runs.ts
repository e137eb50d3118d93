/**
 * Group series (runs, series-runs.ts) as CSV lines, zero-filled over the range: one piece per
 * group, its name quoted once. The same text csvLines writes for the rows
 * `[group, ts, credits, requests, errors, auth_failures]`, without an array of cells per line
 * (a thousand keys' days are tens of thousands of lines). Pure.
 */
import type { GroupRun, Range } from '../server/usage/series.ts';
import { eachBucket } from '../server/usage/series-runs.ts';
import { csvCell, csvLines } from './csv.ts';

export function* runLines(
  header: string[],
  range: Range,
  groups: Iterable<GroupRun>,
  isoOf: (ms: number) => string,
): Generator<string> {
  yield* csvLines(header, []);
  // A bucket's time and its all-zero tail are formatted once for every group.
  const zeros = new Map<number, string>();
  for (const g of groups) {
    const lead = `${csvCell(g.group)},`;
    const { run } = g;
    let text = '';
    eachBucket(range, run, (ts, i) => {
      if (i < 0) {
        let tail = zeros.get(ts);
        if (tail === undefined) {
          tail = `${csvCell(isoOf(ts))},0,0,0,0\r\n`;
          zeros.set(ts, tail);
        }
        text += lead + tail;
      } else
        text += `${lead}${csvCell(isoOf(ts))},${csvCell(run[i + 1])},${csvCell(run[i + 2])},${csvCell(run[i + 3])},${csvCell(run[i + 4])}\r\n`;
    });
    yield text;
  }
}
