/**
 * Group series as JSON, written from their runs straight into the body's bytes rather than through
 * a point object, a view object and JSON.stringify per bucket, or even a string per bucket: a page
 * of a hundred keys over a year is 36,500 points (3.4 MB). The bytes are exactly the UTF-8 of
 * `JSON.stringify({ ...group, points: pointsView(points) })` for the same series.
 */
import { iso } from '../timestamps.ts';
import { asciiBytes, type BodyWriter } from './encode-body.ts';
import type { GroupRun, Range } from './series.ts';
import { eachBucket } from './series-runs.ts';

const REQUESTS = asciiBytes(',"requests":');
const ERRORS = asciiBytes(',"errors":');
const AUTH_FAILURES = asciiBytes(',"auth_failures":');
const CLOSE = asciiBytes('}');
const COMMA = asciiBytes(',');
const NULL = asciiBytes('null');

/** What JSON.stringify writes for a number: its shortest round-trip text, null when not finite. */
function writeNumber(out: BodyWriter, n: number): void {
  if (Number.isFinite(n)) out.number(n);
  else out.bytes(NULL);
}

/**
 * One answer's writer: every group shares the same buckets, so each bucket's opening
 * (`{"ts":"…","credits":`) and its all-zero point are made once, not once per group.
 */
export function groupJsonWriter(range: Range): (g: GroupRun, out: BodyWriter) => void {
  // By the bucket's place in the range: every group visits the same buckets in the same order.
  const openings: Uint8Array[] = [];
  const zeros: Uint8Array[] = [];
  return ({ run, ...fields }, out) => {
    // The other fields keep their order; `points` comes last, where the series has it.
    const head = JSON.stringify(fields);
    out.text(`${head.length > 2 ? `${head.slice(0, -1)},` : '{'}"points":[`);
    let k = 0;
    const visit = (ts: number, i: number) => {
      if (k > 0) out.bytes(COMMA);
      let opening = openings[k];
      if (opening === undefined) {
        const text = `{"ts":"${iso(ts)}","credits":`;
        opening = asciiBytes(text);
        openings[k] = opening;
        zeros[k] = asciiBytes(`${text}0,"requests":0,"errors":0,"auth_failures":0}`);
      }
      k++;
      if (i < 0) return out.bytes(zeros[k - 1]!);
      out.bytes(opening);
      writeNumber(out, run[i + 1]!);
      out.bytes(REQUESTS);
      writeNumber(out, run[i + 2]!);
      out.bytes(ERRORS);
      writeNumber(out, run[i + 3]!);
      out.bytes(AUTH_FAILURES);
      writeNumber(out, run[i + 4]!);
      out.bytes(CLOSE);
    };
    eachBucket(range, run, visit);
    out.text(']}');
  };
}
