/**
 * GET /api/v1/usage's answer, computed on the app's reads worker (web/dashboard-reads-worker.ts): a page of a hundred
 * keys over a year is about 60 ms of queries and formatting, a stall for every gateway request if
 * it ran on the serving thread. The route has validated the query already; this reads and writes
 * the whole body, bounded by the point cap (MAX_POINTS: a few MB at most), and hands it back as
 * bytes (copied once between threads, not re-encoded there).
 */
import type { Deps } from '../deps.ts';
import { jsonWithArray } from '../http/stream.ts';
import { iso } from '../timestamps.ts';
import { encodeBody } from './encode-body.ts';
import type { RangeQuery } from './range.ts';
import { groupedRuns, totalSeries } from './series.ts';
import { groupJsonWriter } from './series-json.ts';
import { pointsView } from './series-view.ts';

/** The answer's text in pieces: the totals' series, then (grouped) each group's series written from its runs. */
export async function writeUsageAnswer(deps: Deps, range: RangeQuery): Promise<Iterable<string>> {
  const body = {
    from: iso(range.from),
    to: iso(range.to),
    step: range.step,
    points: pointsView(await totalSeries(deps.db, range)),
  };
  if (!range.group) return [JSON.stringify(body)];
  const { groups, total_groups, next_cursor } = await groupedRuns(deps.db, range, range.group, range.page);
  const head = {
    ...body,
    group: range.group,
    total_groups,
    next_cursor: next_cursor === null ? null : String(next_cursor),
  };
  return jsonWithArray(head, 'groups', groups, groupJsonWriter(range));
}

export const usageReadTasks = {
  async usage(deps: Deps, range: RangeQuery): Promise<Uint8Array<ArrayBuffer>> {
    return encodeBody(await writeUsageAnswer(deps, range));
  },
};
