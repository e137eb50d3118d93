/**
 * GET /api/v1/usage's answer, computed on the app's reads worker (web/dashboard-reads-worker.ts): a page of a hundred
 * keys over a year is about 60 ms of queries and formatting, a stall for every gateway request if
 * it ran on the serving thread. The route has validated the query already; this reads and writes
 * the whole body, bounded by the point cap (MAX_POINTS: a few MB at most), and hands it back as
 * bytes (copied once between threads, not re-encoded there).
 */
import type { Deps } from '../deps.ts';
import { iso } from '../timestamps.ts';
import { createBodyWriter } from './encode-body.ts';
import type { RangeQuery } from './range.ts';
import { groupedRuns, totalSeries } from './series.ts';
import { groupJsonWriter } from './series-json.ts';
import { pointsView } from './series-view.ts';

/**
 * The answer as UTF-8: the totals' series, then (grouped) each group's series written from its
 * runs, as JSON.stringify would write the whole object (the groups array after the other fields).
 */
export async function writeUsageAnswer(deps: Deps, range: RangeQuery): Promise<Uint8Array<ArrayBuffer>> {
  const out = createBodyWriter();
  const body = {
    from: iso(range.from),
    to: iso(range.to),
    step: range.step,
    points: pointsView(await totalSeries(deps.db, range)),
  };
  if (!range.group) {
    out.text(JSON.stringify(body));
    return out.done();
  }
  const { groups, total_groups, next_cursor } = await groupedRuns(deps.db, range, range.group, range.page);
  const head = JSON.stringify({
    ...body,
    group: range.group,
    total_groups,
    next_cursor: next_cursor === null ? null : String(next_cursor),
  });
  out.text(`${head.slice(0, -1)},"groups":[`);
  const write = groupJsonWriter(range);
  groups.forEach((g, i) => {
    if (i > 0) out.text(',');
    write(g, out);
  });
  out.text(']}');
  return out.done();
}

export const usageReadTasks = {
  usage: writeUsageAnswer,
};
