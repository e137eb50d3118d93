/** /export/*.csv: every dashboard table as CSV, for signed-in users (cookie) or read tokens. */
import { Hono } from 'hono';
import { z } from 'zod';
import { listAudit } from '../../server/audit/list.ts';
import type { AppEnv } from '../../server/auth/app-env.ts';
import { requireAuth } from '../../server/auth/middleware.ts';
import { DAY } from '../../server/clock.ts';
import { INCIDENT_STATES } from '../../server/db/schema/index.ts';
import type { Deps } from '../../server/deps.ts';
import { issuesFromZod, validationError } from '../../server/errors.ts';
import { streamResponse } from '../../server/http/stream.ts';
import { getKey } from '../../server/keys/keys.ts';
import { iso } from '../../server/timestamps.ts';
import { parseRangeQuery } from '../../server/usage/range.ts';
import { rememberedIso } from '../../server/usage/routes.ts';
import { GROUPS, groupedRuns, keySeries, totalSeries } from '../../server/usage/series.ts';
import { type Cell, csvCell, csvLines } from '../csv.ts';
import { runLines } from '../csv-runs.ts';
import { listIncidents } from '../queries/incidents.ts';
import { listKeyRows } from '../queries/key-table.ts';
import { monthTotals } from '../queries/month-totals.ts';

const POINT_HEADER = ['ts', 'credits', 'requests', 'errors', 'auth_failures'];

/** A CSV download, formatted row by row as the client reads it (never one string in memory). */
function csv(name: string, header: string[], rows: Iterable<Cell[]>): Response {
  return csvText(name, csvLines(header, rows));
}

/** The same from CSV text already formatted (header first), piece by piece. */
function csvText(name: string, lines: Iterable<string>): Response {
  return streamResponse(lines, {
    'content-type': 'text/csv; charset=utf-8',
    'content-disposition': `attachment; filename="${name}"`,
    'cache-control': 'no-store',
  });
}

/**
 * The header, then one piece per group: its lines (the group's cell, quoted once, then each of its
 * `rows`, already CSV), as csvLines would write them: a piece per group, not an array of cells per
 * line (a thousand keys' months are 12,000 lines).
 */
function* groupLines<G>(
  header: string[],
  groups: Iterable<G>,
  lead: (g: G) => Cell[],
  rows: (g: G) => string[],
): Generator<string> {
  yield* csvLines(header, []);
  for (const g of groups) {
    const cells = lead(g);
    const head = cells.length > 0 ? `${cells.map(csvCell).join(',')},` : '';
    let text = '';
    for (const row of rows(g)) text += `${head}${row}\r\n`;
    yield text;
  }
}

/** Months kept in the monthly CSV: the last twelve calendar months in KEYWATCH_TZ, the current one to date. */
const CSV_MONTHS = 12;

/** Integers stay as they are; measured amounts (observed, expected, impact) keep two decimals. */
const round2 = (n: number | null) => (n === null ? null : Math.round(n * 100) / 100);

const IncidentQuery = z.object({
  state: z.enum(INCIDENT_STATES).optional().or(z.literal('')),
  kind: z.string().max(50).optional(),
  key: z.string().max(100).optional(),
  days: z.coerce.number().int().min(1).max(3650).default(30),
});

/**
 * Monthly totals per calendar month of KEYWATCH_TZ (a month starts at local midnight), starting
 * with the first month that has usage; the current month is flagged `partial` (to date).
 */
async function monthlyCsv(deps: Deps, groupQuery: string | undefined) {
  const group = GROUPS.find((g) => g === groupQuery);
  if (groupQuery && !group)
    throw validationError([{ path: 'group', message: `must be one of ${GROUPS.join(', ')}` }]);
  const groups = await monthTotals(deps.db, {
    now: deps.clock.now(),
    timeZone: deps.config.timeZone,
    count: CSV_MONTHS,
    dropLeadingEmpty: true,
    ...(group && { group }),
  });
  const header = [...(group ? [group] : []), 'month', 'partial', ...POINT_HEADER.slice(1)];
  const lines = groupLines(
    header,
    groups,
    (g) => (group ? [g.group] : []),
    (g) =>
      g.months.map(
        (m) =>
          `${csvCell(m.month)},${m.partial ? 'yes' : 'no'},${csvCell(m.credits)},${csvCell(m.requests)},${csvCell(m.errors)},${csvCell(m.auth_failures)}`,
      ),
  );
  return csvText(`usage-month${group ? `-by-${group}` : ''}.csv`, lines);
}

export function exportRoutes(deps: Deps) {
  return new Hono<AppEnv>()
    .use(requireAuth(deps, 'read'))
    .get('/usage.csv', async (c) => {
      const query = c.req.query();
      if (query.step === 'month') return monthlyCsv(deps, query.group);
      const range = parseRangeQuery(query, deps.clock.now());
      // Every group shares the same buckets: each bucket's time is formatted once.
      const isoOf = rememberedIso();
      const point = (p: {
        ts: number;
        credits: number;
        requests: number;
        errors: number;
        auth_failures: number;
      }) => [isoOf(p.ts), p.credits, p.requests, p.errors, p.auth_failures] as Cell[];
      if (range.group) {
        const { groups } = await groupedRuns(deps.db, range, range.group);
        const header = [range.group, 'ts', ...POINT_HEADER.slice(1)];
        const lines = runLines(header, range, groups, isoOf);
        return csvText(`usage-${range.step}-by-${range.group}.csv`, lines);
      }
      return csv(`usage-${range.step}.csv`, POINT_HEADER, (await totalSeries(deps.db, range)).map(point));
    })
    .get('/key-usage.csv', async (c) => {
      const key = await getKey(deps, c.req.query('key') ?? '');
      const range = parseRangeQuery(c.req.query(), deps.clock.now());
      const rows = (await keySeries(deps.db, key.id, range)).map((p) => [
        iso(p.ts),
        p.credits,
        p.requests,
        p.errors,
        p.auth_failures,
      ]);
      return csv(`key-${key.name}-${range.step}.csv`.replace(/[^\w.-]/g, '_'), POINT_HEADER, rows);
    })
    .get('/keys.csv', async () => {
      const rows = (await listKeyRows(deps, deps.clock.now())).map((k) => [
        k.id,
        k.name,
        k.last4,
        k.environment,
        k.owner,
        k.status,
        k.created_at,
        k.last_used_at,
        k.revoked_at,
        k.credits7d,
        k.flags.map((f) => f.code).join(' '),
      ]);
      const header = [
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
      return csv('keys.csv', header, rows);
    })
    .get('/incidents.csv', async (c) => {
      const parsed = IncidentQuery.safeParse(c.req.query());
      if (!parsed.success) throw validationError(issuesFromZod(parsed.error.issues));
      const q = parsed.data;
      const incidents = await listIncidents(deps, {
        ...(q.state && { state: [q.state] }),
        ...(q.kind && { kind: q.kind }),
        ...(q.key && { keyId: q.key }),
        from: deps.clock.now() - q.days * DAY,
        limit: 10_000,
      });
      const header = [
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
      return csv('incidents.csv', header, rows);
    })
    .get('/audit.csv', requireAuth(deps, 'admin'), async () => {
      const rows = (await listAudit(deps, { limit: 10_000 })).map((a) => [
        a.id,
        a.ts,
        a.actor,
        a.action,
        a.target,
        a.details ? JSON.stringify(a.details) : '',
      ]);
      return csv('audit.csv', ['id', 'ts', 'actor', 'action', 'target', 'details'], rows);
    });
}
