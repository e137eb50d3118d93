/**
 * The dashboard's large reads, run on its reads worker (dashboard-reads-worker.ts): the CSV
 * exports (usage, keys, incidents, audit) and the data of the /keys and /capacity pages. A thousand keys' days over a
 * month (~36 ms), their last twelve months (~50 ms) or the keys table (~30 ms) would otherwise
 * stall every gateway request on the serving thread. The routes have validated their queries
 * already. A CSV comes back whole as bytes, bounded by the point cap (MAX_POINTS lines) or the
 * number of keys, a few MB at most; page data as the few plain objects its page renders.
 */
import { readAccountView } from '../server/account/view.ts';
import { listAudit } from '../server/audit/list.ts';
import { type InFlight, limitInFlight } from '../server/auth/in-flight.ts';
import { DAY, floorTo } from '../server/clock.ts';
import type { IncidentState } from '../server/db/schema/index.ts';
import type { Deps } from '../server/deps.ts';
import { createTaskWorker, type TaskWorker } from '../server/http/task-worker.ts';
import { sourceFreshness } from '../server/ingest/health.ts';
import { keyReadTasks } from '../server/keys/key-reads.ts';
import { dayPeriod } from '../server/time-zone.ts';
import { iso } from '../server/timestamps.ts';
import { createBodyWriter, encodeBody } from '../server/usage/encode-body.ts';
import type { RangeQuery } from '../server/usage/range.ts';
import {
  GROUPS,
  type Group,
  groupedRuns,
  keySeries,
  type Range,
  totalSeries,
} from '../server/usage/series.ts';
import { rememberedIso } from '../server/usage/series-view.ts';
import { usageReadTasks } from '../server/usage/usage-reads.ts';
import { lastDays } from './components/windows.ts';
import { type Cell, csvCell, csvLines } from './csv.ts';
import { writeMonthLines, writeRunLines } from './csv-runs.ts';
import type { OverviewData } from './pages/overview.tsx';
import { listIncidents } from './queries/incidents.ts';
import { type KeyPage, listKeyWeeks, pageOfKeyRows } from './queries/key-table.ts';
import { type GroupMonths, type MonthReads, monthSums, monthTotals } from './queries/month-totals.ts';
import { sumCredits, topKeys, unattributedCredits } from './queries/spend.ts';

export const POINT_HEADER = ['ts', 'credits', 'requests', 'errors', 'auth_failures'];

/** Months kept in the monthly CSV: the last twelve calendar months in KEYWATCH_TZ, the current one to date. */
const CSV_MONTHS = 12;

const KEY_HEADER = [
  'id',
  'name',
  'last4',
  'environment',
  'owner',
  'status',
  'created_at',
  'last_used_at',
  'revoked_at',
  'credits_7d',
  'flags',
];

const INCIDENT_HEADER = [
  'id',
  'key',
  'kind',
  'severity',
  'state',
  'started_at',
  'last_seen_at',
  'resolved_at',
  'observed',
  'expected',
  'impact_credits',
  'summary',
];

/** Integers stay as they are; measured amounts (observed, expected, impact) keep two decimals. */
const round2 = (n: number | null) => (n === null ? null : Math.round(n * 100) / 100);

/** The file's pieces as one body: copied once to the serving thread, sent from there. */
const bytesOf = encodeBody;

type PointLike = { ts: number; credits: number; requests: number; errors: number; auth_failures: number };
const pointCells = (p: PointLike, isoOf: (ms: number) => string): Cell[] => [
  isoOf(p.ts),
  p.credits,
  p.requests,
  p.errors,
  p.auth_failures,
];

export const dashboardReadTasks = {
  /** usage.csv by minute, hour or day: the totals, or every group's series zero-filled. */
  async usageCsv(deps: Deps, range: RangeQuery): Promise<Uint8Array<ArrayBuffer>> {
    // Every group shares the same buckets: each bucket's time is formatted once.
    const isoOf = rememberedIso();
    if (range.group) {
      const { groups } = await groupedRuns(deps.db, range, range.group);
      const out = createBodyWriter();
      writeRunLines(out, [range.group, 'ts', ...POINT_HEADER.slice(1)], range, groups, isoOf);
      return out.done();
    }
    const points = await totalSeries(deps.db, range);
    return bytesOf(
      csvLines(
        POINT_HEADER,
        points.map((p) => pointCells(p, isoOf)),
      ),
    );
  },

  /**
   * usage.csv by month: totals per calendar month of KEYWATCH_TZ (a month starts at local
   * midnight), starting with the first month that has usage; the current month is flagged
   * `partial` (to date).
   */
  async monthlyCsv(deps: Deps, input: { group?: Group }): Promise<Uint8Array<ArrayBuffer>> {
    const { group } = input;
    const sums = await monthSums(deps.db, {
      now: deps.clock.now(),
      timeZone: deps.config.timeZone,
      count: CSV_MONTHS,
      dropLeadingEmpty: true,
      ...(group && { group }),
    });
    const header = [...(group ? [group] : []), 'month', 'partial', ...POINT_HEADER.slice(1)];
    const out = createBodyWriter();
    writeMonthLines(out, header, sums, group !== undefined);
    return out.done();
  },

  /** key-usage.csv: one key's series (the route has found the key). */
  async keyUsageCsv(deps: Deps, input: { keyId: string; range: Range }): Promise<Uint8Array<ArrayBuffer>> {
    const points = await keySeries(deps.db, input.keyId, input.range);
    return bytesOf(
      csvLines(
        POINT_HEADER,
        points.map((p) => pointCells(p, iso)),
      ),
    );
  },

  /** keys.csv: every key with its last week's credits and flags. */
  async keysCsv(deps: Deps): Promise<Uint8Array<ArrayBuffer>> {
    const out = createBodyWriter();
    for (const line of csvLines(KEY_HEADER, [])) out.text(line);
    for (const { key: k, credits7d, flags } of await listKeyWeeks(deps, deps.clock.now())) {
      // The cells csvLines writes of [id, name, last4, environment, owner, status, created_at,
      // last_used_at, revoked_at, credits_7d, flags], one text per line.
      out.text(
        `${csvCell(k.id)},${csvCell(k.name)},${csvCell(k.last4)},${csvCell(k.environment)},${csvCell(k.owner)},${csvCell(k.status)},${csvCell(k.created_at)},${csvCell(k.last_used_at)},${csvCell(k.revoked_at)},${csvCell(credits7d)},${csvCell(flags.map((f) => f.code).join(' '))}\r\n`,
      );
    }
    return out.done();
  },

  /** incidents.csv: up to 10,000 incidents started in the last `days`, newest first. */
  async incidentsCsv(
    deps: Deps,
    q: { state?: IncidentState; kind?: string; keyId?: string; days: number },
  ): Promise<Uint8Array<ArrayBuffer>> {
    const incidents = await listIncidents(deps, {
      ...(q.state && { state: [q.state] }),
      ...(q.kind && { kind: q.kind }),
      ...(q.keyId && { keyId: q.keyId }),
      from: deps.clock.now() - q.days * DAY,
      limit: 10_000,
    });
    const rows = incidents.map((i) => [
      i.id,
      i.key,
      i.kind,
      i.severity,
      i.state,
      i.started_at,
      i.last_seen_at,
      i.resolved_at,
      round2(i.observed),
      round2(i.expected),
      round2(i.impact_credits),
      i.summary,
    ]);
    return bytesOf(csvLines(INCIDENT_HEADER, rows));
  },

  /** audit.csv: the last 10,000 entries of the audit log. */
  async auditCsv(deps: Deps): Promise<Uint8Array<ArrayBuffer>> {
    const rows = (await listAudit(deps, { limit: 10_000 })).map((a) => [
      a.id,
      a.ts,
      a.actor,
      a.action,
      a.target,
      a.details ? JSON.stringify(a.details) : '',
    ]);
    return bytesOf(csvLines(['id', 'ts', 'actor', 'action', 'target', 'details'], rows));
  },

  /** The /keys page's rows: one page of every key's row, and the counts over all of them. */
  async keysPage(deps: Deps, input: { page: number }): Promise<KeyPage> {
    return pageOfKeyRows(deps, deps.clock.now(), input.page);
  },

  /**
   * The overview's figures: spend today and in the budget period (the billing period when the
   * account has a subscription, else the calendar month), the top keys of the last 7 days, the
   * last three calendar months of the `topMonthKeys` largest keys and the rest as one row (a
   * thousand keys is the keys page's job), open incidents and each source's freshness.
   */
  async overview(deps: Deps, input: { topMonthKeys: number }): Promise<OverviewData> {
    const { db, config } = deps;
    const now = deps.clock.now();
    const account = await readAccountView(deps, now);
    const monthStart = account.budget.start;
    return {
      now,
      monthStart,
      account,
      today: (await sumCredits(db, dayPeriod(now, config.timeZone).start, now + 1)).credits,
      month: (await sumCredits(db, monthStart, now + 1)).credits,
      unattributed: await unattributedCredits(db, lastDays(now, 30).from, now + 1),
      // To the end of today: nothing is stored after now, and whole days are one row per key.
      topKeys: await topKeys(db, lastDays(now, 7).from, floorTo(now, DAY) + DAY),
      months: await monthTotals(db, {
        now,
        timeZone: config.timeZone,
        count: 3,
        group: 'key',
        dropLeadingEmpty: true,
        top: input.topMonthKeys,
      }),
      openIncidents: await listIncidents(deps, { state: ['open'], limit: 50 }),
      freshness: await sourceFreshness(db, now),
    };
  },

  /**
   * The /capacity page's calendar months of KEYWATCH_TZ per grouping, the `top` largest series
   * and the rest summed; keys and environments are summed from one read of every key's months.
   */
  async capacityMonths(deps: Deps, input: { top: number }): Promise<Record<string, GroupMonths[]>> {
    const now = deps.clock.now();
    const reads: MonthReads = new Map();
    return Object.fromEntries(
      await Promise.all(
        GROUPS.map(async (group) => [
          group,
          await monthTotals(deps.db, {
            now,
            timeZone: deps.config.timeZone,
            count: 12,
            group,
            dropLeadingEmpty: true,
            top: input.top,
            reads,
          }),
        ]),
      ),
    );
  },
};

/** Every large read of the app, on one worker: the dashboard's and the usage API's. */
export const readTasks = { ...dashboardReadTasks, ...usageReadTasks, ...keyReadTasks };

/**
 * The worker, and the admission every route that waits on it mounts after authentication: the
 * worker answers one read at a time, so what waits is bounded (the largest answers are a few MB).
 * Four per user or token leaves a page's own requests and a download room; more get 429.
 */
export type DashboardReads = TaskWorker<typeof readTasks> & { admit: InFlight['admit'] };
const READS_IN_FLIGHT = { work: 'exports and large reads', perCaller: 4, total: 16, retryAfterS: 1 };

/**
 * One worker per app, shared by the exports, the pages and the usage API (app.ts hands it to
 * usageRoutes): each reads worker holds a V8 heap and a SQLite page cache of its own, and a second
 * one cost the process about 80 MB of its 250 MB budget (npm run bench scale).
 */
const workers = new WeakMap<Deps, DashboardReads>();

export function dashboardReadsFor(deps: Deps): DashboardReads {
  let reads = workers.get(deps);
  if (!reads) {
    // Its reads are bounded by the point caps (a few MB live at most); capped, V8 collects the old
    // generation after a big answer instead of keeping it grown while the worker sits idle. A young
    // generation larger than the other workers' 12 MB: a big read's rows and runs (a page of a
    // hundred keys' year: ~3 MB, alive until its body is written) were scavenged, copied and
    // promoted mid-answer, then collected again from old space (page of 100 keys: 73 -> 63 ms of
    // CPU at 32 MB). 24 MB: 32 took the bench's peak RSS to 237 MB of its 250.
    const worker = createTaskWorker(
      deps,
      new URL('./dashboard-reads-worker.ts', import.meta.url),
      readTasks,
      {
        maxOldGenerationSizeMb: 64,
        maxYoungGenerationSizeMb: 24,
      },
    );
    reads = Object.assign(worker, { admit: limitInFlight(READS_IN_FLIGHT).admit });
    workers.set(deps, reads);
  }
  return reads;
}
