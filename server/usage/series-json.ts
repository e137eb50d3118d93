/**
 * Group series as JSON, written from their runs straight into the body's bytes rather than through
 * a point object, a view object and JSON.stringify per bucket, or even a string per bucket: a page
 * of a hundred keys over a year is 36,500 points (3.4 MB). The bytes are exactly the UTF-8 of
 * `JSON.stringify({ ...group, points: pointsView(points) })` for the same series.
 */

import { floorTo } from '../clock.ts';
import { iso } from '../timestamps.ts';
import { STEPS } from './buckets.ts';
import { asciiBytes, type BodyWriter, copyAt, MAX_NUMBER_BYTES, writeNumberAt } from './encode-body.ts';
import type { GroupRun, Range } from './series.ts';
import { WIDTH } from './series-runs.ts';

const REQUESTS = asciiBytes(',"requests":');
const ERRORS = asciiBytes(',"errors":');
const AUTH_FAILURES = asciiBytes(',"auth_failures":');
const COMMA = 44;
const CLOSE = 125;
const NULL = asciiBytes('null');
/** The fixed pieces of a point after its opening, and its four numbers at their longest. */
const POINT_TAIL_BYTES = REQUESTS.length + ERRORS.length + AUTH_FAILURES.length + 2 + 4 * MAX_NUMBER_BYTES;

/** What JSON.stringify writes for a number: its shortest round-trip text, null when not finite. */
function numberAt(buffer: Uint8Array, at: number, n: number): number {
  return Number.isFinite(n) ? writeNumberAt(buffer, at, n) : copyAt(buffer, at, NULL);
}

/**
 * One answer's writer: every group shares the same buckets, so each bucket's opening
 * (`{"ts":"…","credits":`) and its all-zero point are made once, not once per group. Each point is
 * written with one bounds check (BodyWriter.reserve), its pieces copied and its numbers written in
 * place: the page of a hundred keys spent more time in per-piece calls than in its queries.
 */
export function groupJsonWriter(range: Range): (g: GroupRun, out: BodyWriter) => void {
  const size = STEPS[range.step];
  const first = floorTo(range.from, size);
  // By the bucket's place in the range: every group visits the same buckets in the same order.
  const openings: Uint8Array[] = [];
  const zeros: Uint8Array[] = [];
  for (let t = first; t < range.to; t += size) {
    const text = `{"ts":"${iso(t)}","credits":`;
    openings.push(asciiBytes(text));
    zeros.push(asciiBytes(`${text}0,"requests":0,"errors":0,"auth_failures":0}`));
  }
  const longest = zeros.reduce((m, z) => Math.max(m, z.length), 0) + POINT_TAIL_BYTES;
  return ({ run, ...fields }, out) => {
    // The other fields keep their order; `points` comes last, where the series has it.
    const head = JSON.stringify(fields);
    out.text(`${head.length > 2 ? `${head.slice(0, -1)},` : '{'}"points":[`);
    // As eachBucket (series-runs.ts) visits them: every bucket of the range in order, a run's row
    // on that bucket written from it, a row off the grid skipped.
    let i = 0;
    for (let k = 0; k < openings.length; k++) {
      const t = first + k * size;
      while (i < run.length && run[i]! < t) i += WIDTH;
      const buffer = out.reserve(longest);
      let p = out.at();
      if (k > 0) buffer[p++] = COMMA;
      if (i < run.length && run[i] === t) {
        p = copyAt(buffer, p, openings[k]!);
        p = numberAt(buffer, p, run[i + 1]!);
        p = copyAt(buffer, p, REQUESTS);
        p = numberAt(buffer, p, run[i + 2]!);
        p = copyAt(buffer, p, ERRORS);
        p = numberAt(buffer, p, run[i + 3]!);
        p = copyAt(buffer, p, AUTH_FAILURES);
        p = numberAt(buffer, p, run[i + 4]!);
        buffer[p++] = CLOSE;
        i += WIDTH;
      } else p = copyAt(buffer, p, zeros[k]!);
      out.moveTo(p);
    }
    out.text(']}');
  };
}
