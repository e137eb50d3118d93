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
import { parseRangeQuery } from '../../server/usage/range.ts';
import { GROUPS } from '../../server/usage/series.ts';
import { type Cell, csvLines } from '../csv.ts';
import { dashboardReadsFor } from '../dashboard-reads.ts';
import { listIncidents } from '../queries/incidents.ts';

const CSV_HEADERS = (name: string) => ({
  'content-type': 'text/csv; charset=utf-8',
  'content-disposition': `attachment; filename="${name}"`,
  'cache-control': 'no-store',
});

/** A CSV download, formatted row by row as the client reads it (never one string in memory). */
function csv(name: string, header: string[], rows: Iterable<Cell[]>): Response {
  return streamResponse(csvLines(header, rows), CSV_HEADERS(name));
}

/** A CSV file the reads worker wrote whole (dashboard-reads.ts). */
const csvBytes = (name: string, body: Uint8Array<ArrayBuffer>) =>
  new Response(body, { status: 200, headers: CSV_HEADERS(name) });

/** Integers stay as they are; measured amounts (observed, expected, impact) keep two decimals. */
const round2 = (n: number | null) => (n === null ? null : Math.round(n * 100) / 100);

const IncidentQuery = z.object({
  state: z.enum(INCIDENT_STATES).optional().or(z.literal('')),
  kind: z.string().max(50).optional(),
  key: z.string().max(100).optional(),
  days: z.coerce.number().int().min(1).max(3650).default(30),
});

/**
 * Usage and keys exports are read and written on the dashboard's reads worker (dashboard-reads.ts), one at a time; the queries
 * are checked here first, so a bad one gets the same 400 without a trip there.
 */
export function exportRoutes(deps: Deps) {
  const exports = dashboardReadsFor(deps);
  return new Hono<AppEnv>()
    .use(requireAuth(deps, 'read'))
    .get('/usage.csv', async (c) => {
      const query = c.req.query();
      if (query.step === 'month') {
        const group = GROUPS.find((g) => g === query.group);
        if (query.group && !group)
          throw validationError([{ path: 'group', message: `must be one of ${GROUPS.join(', ')}` }]);
        const body = await exports.run('monthlyCsv', group ? { group } : {});
        return csvBytes(`usage-month${group ? `-by-${group}` : ''}.csv`, body);
      }
      const range = parseRangeQuery(query, deps.clock.now());
      const body = await exports.run('usageCsv', range);
      return csvBytes(`usage-${range.step}${range.group ? `-by-${range.group}` : ''}.csv`, body);
    })
    .get('/key-usage.csv', async (c) => {
      const key = await getKey(deps, c.req.query('key') ?? '');
      const range = parseRangeQuery(c.req.query(), deps.clock.now());
      const body = await exports.run('keyUsageCsv', { keyId: key.id, range });
      return csvBytes(`key-${key.name}-${range.step}.csv`.replace(/[^\w.-]/g, '_'), body);
    })
    .get('/keys.csv', async () => csvBytes('keys.csv', await exports.run('keysCsv', undefined)))
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
