/**
 * Group series (runs, series-runs.ts) as CSV lines, zero-filled over the range, written straight
 * into the body's bytes: the same text csvLines writes for the rows
 * `[group, ts, credits, requests, errors, auth_failures]`, without an array of cells or even a
 * string per line (a thousand keys' days are tens of thousands of lines, and on the reads worker
 * every short-lived string is garbage its small young generation has to sweep).
 */
import { asciiBytes, type BodyWriter } from '../server/usage/encode-body.ts';
import type { GroupRun, Range } from '../server/usage/series.ts';
import { eachBucket } from '../server/usage/series-runs.ts';
import { csvCell, csvLines } from './csv.ts';

const COMMA = asciiBytes(',');
const LINE_END = asciiBytes('\r\n');

/** csvCell of a number: its String() text, empty when not finite. */
function writeCell(out: BodyWriter, n: number): void {
  if (Number.isFinite(n)) out.number(n);
}

export function writeRunLines(
  out: BodyWriter,
  header: string[],
  range: Range,
  groups: Iterable<GroupRun>,
  isoOf: (ms: number) => string,
): void {
  for (const line of csvLines(header, [])) out.text(line);
  // A bucket's time cell, and its line's all-zero tail, are made once for every group.
  const times = new Map<number, Uint8Array>();
  const zeros = new Map<number, Uint8Array>();
  for (const g of groups) {
    const lead = new TextEncoder().encode(`${csvCell(g.group)},`);
    const { run } = g;
    eachBucket(range, run, (ts, i) => {
      out.bytes(lead);
      if (i < 0) {
        let tail = zeros.get(ts);
        if (tail === undefined) {
          tail = asciiBytes(`${csvCell(isoOf(ts))},0,0,0,0\r\n`);
          zeros.set(ts, tail);
        }
        return out.bytes(tail);
      }
      let time = times.get(ts);
      if (time === undefined) {
        time = asciiBytes(`${csvCell(isoOf(ts))},`);
        times.set(ts, time);
      }
      out.bytes(time);
      writeCell(out, run[i + 1]!);
      out.bytes(COMMA);
      writeCell(out, run[i + 2]!);
      out.bytes(COMMA);
      writeCell(out, run[i + 3]!);
      out.bytes(COMMA);
      writeCell(out, run[i + 4]!);
      out.bytes(LINE_END);
    });
  }
}
