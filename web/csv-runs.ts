/**
 * Group series (runs, series-runs.ts) as CSV lines, zero-filled over the range, written straight
 * into the body's bytes: the same text csvLines writes for the rows
 * `[group, ts, credits, requests, errors, auth_failures]`, without an array of cells or even a
 * string per line (a thousand keys' days are tens of thousands of lines, and on the reads worker
 * every short-lived string is garbage its small young generation has to sweep).
 */

import { floorTo } from '../server/clock.ts';
import { STEPS } from '../server/usage/buckets.ts';
import {
  asciiBytes,
  type BodyWriter,
  copyAt,
  MAX_NUMBER_BYTES,
  writeNumberAt,
} from '../server/usage/encode-body.ts';
import type { GroupRun, Range } from '../server/usage/series.ts';
import { WIDTH } from '../server/usage/series-runs.ts';
import { csvCell, csvLines } from './csv.ts';
import { FIELDS, type MonthSums } from './queries/month-totals.ts';

const COMMA_CODE = 44;
/** Group names as UTF-8 (any text), with one encoder for every line's lead. */
const UTF8 = new TextEncoder();

export function writeRunLines(
  out: BodyWriter,
  header: string[],
  range: Range,
  groups: Iterable<GroupRun>,
  isoOf: (ms: number) => string,
): void {
  for (const line of csvLines(header, [])) out.text(line);
  // By the bucket's place in the range, made once for every group: its time cell, and its
  // line's all-zero tail (as eachBucket visits them, series-runs.ts).
  const size = STEPS[range.step];
  const first = floorTo(range.from, size);
  const times: Uint8Array[] = [];
  const zeros: Uint8Array[] = [];
  for (let t = first; t < range.to; t += size) {
    const time = `${csvCell(isoOf(t))},`;
    times.push(asciiBytes(time));
    zeros.push(asciiBytes(`${time}0,0,0,0\r\n`));
  }
  const longest = zeros.reduce((n, z) => Math.max(n, z.length), 0) + 4 * MAX_NUMBER_BYTES;
  for (const g of groups) {
    const lead = UTF8.encode(`${csvCell(g.group)},`);
    const { run } = g;
    let i = 0;
    for (let k = 0; k < times.length; k++) {
      const t = first + k * size;
      while (i < run.length && run[i]! < t) i += WIDTH;
      // One reservation for the line: its lead, time, four numbers and separators.
      const buffer = out.reserve(lead.length + longest);
      let p = copyAt(buffer, out.at(), lead);
      if (i < run.length && run[i] === t) {
        p = sumsAt(buffer, copyAt(buffer, p, times[k]!), run, i + 1);
        i += WIDTH;
      } else p = copyAt(buffer, p, zeros[k]!);
      out.moveTo(p);
    }
  }
}

const CRLF = [13, 10] as const;

/** A number cell written in place (room reserved): its String() text, nothing when not finite. */
const cellAt = (buffer: Uint8Array, at: number, n: number) =>
  Number.isFinite(n) ? writeNumberAt(buffer, at, n) : at;

/**
 * A line's four sums (credits, requests, errors, auth failures: `values[from]` on) as its last
 * cells, and the line's end, written in place; returns the position after them.
 */
function sumsAt(buffer: Uint8Array, at: number, values: ArrayLike<number>, from: number): number {
  let p = cellAt(buffer, at, values[from]!);
  for (let j = 1; j < 4; j++) {
    buffer[p++] = COMMA_CODE;
    p = cellAt(buffer, p, values[from + j]!);
  }
  buffer[p++] = CRLF[0];
  buffer[p++] = CRLF[1];
  return p;
}

/**
 * Month sums (queries/month-totals.ts) as the monthly CSV's lines, written straight into the body:
 * the text csvLines writes for the rows `[group?, month, partial, credits, requests, errors,
 * auth_failures]`, without a month object, a cell array or a string per line (a thousand keys'
 * year is 12,000 lines). `grouped`: the group's name leads each line.
 */
export function writeMonthLines(out: BodyWriter, header: string[], sums: MonthSums, grouped: boolean): void {
  for (const line of csvLines(header, [])) out.text(line);
  // Each month's `month,partial,` cells, made once for every group.
  const months = sums.months.map((m) => asciiBytes(`${csvCell(m.month)},${m.partial ? 'yes' : 'no'},`));
  const longest = months.reduce((n, m) => Math.max(n, m.length), 0) + 4 * MAX_NUMBER_BYTES + 5;
  for (const g of sums.groups) {
    const lead = grouped ? UTF8.encode(`${csvCell(g.group)},`) : new Uint8Array(0);
    for (let i = 0; i < months.length; i++) {
      const k = g.offset + i * FIELDS;
      const buffer = out.reserve(lead.length + longest);
      let p = copyAt(buffer, out.at(), lead);
      p = sumsAt(buffer, copyAt(buffer, p, months[i]!), g.sums, k);
      out.moveTo(p);
    }
  }
}
