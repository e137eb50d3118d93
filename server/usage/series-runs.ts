/**
 * A series' stored buckets as one flat array of numbers, five per bucket in bucket order
 * (`[bucket, credits, requests, errors, auth_failures, bucket, …]`): what big grouped reads carry
 * between the database and the JSON or CSV they are written as, without an object or array per
 * bucket (a page of a hundred keys over a year is 36,500 buckets).
 */
import { type SQL, sql } from 'drizzle-orm';
import { floorTo } from '../clock.ts';
import type { Db } from '../db/client.ts';
import { dialectOf } from '../db/transaction.ts';
import { STEPS } from './buckets.ts';
import type { Point, Range } from './series.ts';

export type Run = number[];
/** Numbers per bucket in a run. */
export const WIDTH = 5;

/**
 * Per group, its rows' five values as one text, `bucket,credits,requests,errors,auth_failures,…`
 * (string_agg on both stores: SQLite since 3.44, PostgreSQL): the database writes the numbers,
 * JSON.parse reads them back, and JavaScript makes one string per group instead of five values
 * per row. Both write a double in a text that reads back as the same double.
 *
 * Writing the text was most of the read (a page of a hundred keys' year: 182,500 numbers), so it
 * is written cheaply: concat_ws makes each row's text at once (a chain of `||` made four
 * intermediate strings per row); on SQLite a whole credit count (nearly all of them) goes out as
 * an integer (SQLite writes every REAL through its float printer, `120.0`, several times the cost
 * of an integer's digits; both read back as the same double; PostgreSQL already writes the
 * shortest text for a double, and its integer cast would overflow); and with a `grid` (the fixed
 * steps of a range) a bucket goes out as its place on it, `(bucket - from) / size`, a few digits
 * instead of thirteen to write and parse again. A bucket off the grid (none is written so) goes
 * out as a fraction, which parseRun turns back into a time between two buckets, skipped as before.
 * Parameters are cast to integers: better-sqlite3 binds every number as a REAL.
 */
export function runText(db: Db, grid?: Grid): SQL {
  const credits =
    dialectOf(db) === 'sqlite'
      ? sql.raw('CASE WHEN credits = CAST(credits AS INTEGER) THEN CAST(credits AS INTEGER) ELSE credits END')
      : sql.raw('credits');
  const bucket = grid
    ? sql`CASE WHEN (bucket - CAST(${grid.from} AS BIGINT)) % CAST(${grid.size} AS BIGINT) = 0
        THEN (bucket - CAST(${grid.from} AS BIGINT)) / CAST(${grid.size} AS BIGINT)
        ELSE (bucket - CAST(${grid.from} AS BIGINT)) / CAST(${grid.size} AS DOUBLE PRECISION) END`
    : sql.raw('bucket');
  return sql`string_agg(concat_ws(',', ${bucket}, ${credits}, requests, errors, auth_failures), ',')`;
}

/** A range's fixed steps, from the floor of its start: what runText may write buckets against. */
export type Grid = { from: number; size: number };
export const gridOf = ({ from, step }: Range): Grid => ({
  from: floorTo(from, STEPS[step]),
  size: STEPS[step],
});

/**
 * A run from its text (written with the same `grid`, if any), in bucket order (an aggregate's
 * order is the store's to choose: sorted when not).
 */
export function parseRun(text: string | null, grid?: Grid): Run {
  if (!text) return [];
  const run = JSON.parse(`[${text}]`) as Run;
  if (grid) for (let i = 0; i < run.length; i += WIDTH) run[i] = grid.from + run[i]! * grid.size;
  for (let i = WIDTH; i < run.length; i += WIDTH) if (run[i]! < run[i - WIDTH]!) return sortRun(run);
  return run;
}

function sortRun(run: Run): Run {
  const rows: number[][] = [];
  for (let i = 0; i < run.length; i += WIDTH) rows.push(run.slice(i, i + WIDTH));
  return rows.sort((a, b) => a[0]! - b[0]!).flat();
}

/** Two runs as one, the values of a bucket in both added (`a`'s first). */
export function mergeRuns(a: Run, b: Run): Run {
  const out: Run = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i]! < b[j]!)) {
      for (let k = 0; k < WIDTH; k++) out.push(a[i + k]!);
      i += WIDTH;
    } else if (i >= a.length || b[j]! < a[i]!) {
      for (let k = 0; k < WIDTH; k++) out.push(b[j + k]!);
      j += WIDTH;
    } else {
      out.push(a[i]!);
      for (let k = 1; k < WIDTH; k++) out.push(a[i + k]! + b[j + k]!);
      i += WIDTH;
      j += WIDTH;
    }
  }
  return out;
}

/**
 * Every bucket of the range in order, zero-filled: `visit(ts, i)` with the index of its values in
 * the run, or -1 when the run has no row for it. A row off the grid of buckets is skipped.
 */
export function eachBucket(
  { from, to, step }: Range,
  run: Run,
  visit: (ts: number, i: number) => void,
): void {
  const size = STEPS[step];
  let i = 0;
  for (let t = floorTo(from, size); t < to; t += size) {
    while (i < run.length && run[i]! < t) i += WIDTH;
    if (i < run.length && run[i] === t) {
      visit(t, i);
      i += WIDTH;
    } else visit(t, -1);
  }
}

/** A run as zero-filled points over the range. */
export function pointsOf(range: Range, run: Run): Point[] {
  const points: Point[] = [];
  eachBucket(range, run, (ts, i) =>
    points.push(
      i < 0
        ? { ts, credits: 0, requests: 0, errors: 0, auth_failures: 0 }
        : {
            ts,
            credits: run[i + 1]!,
            requests: run[i + 2]!,
            errors: run[i + 3]!,
            auth_failures: run[i + 4]!,
          },
    ),
  );
  return points;
}

/** A zero-filled series (points, one per bucket of the range) as a run. */
export function runOf(points: Point[]): Run {
  const run: Run = [];
  for (const p of points) run.push(p.ts, p.credits, p.requests, p.errors, p.auth_failures);
  return run;
}
