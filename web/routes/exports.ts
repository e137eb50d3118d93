/** /export/*.csv: every dashboard table as CSV, for signed-in users (cookie) or read tokens. */
import { type Context, Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../../server/auth/app-env.ts';
import { requireAuth } from '../../server/auth/middleware.ts';
import { INCIDENT_STATES } from '../../server/db/schema/index.ts';
import type { Deps } from '../../server/deps.ts';
import { issuesFromZod, validationError } from '../../server/errors.ts';
import { sentThen } from '../../server/http/sent-then.ts';
import { getKey } from '../../server/keys/keys.ts';
import { parseRangeQuery } from '../../server/usage/range.ts';
import { GROUPS } from '../../server/usage/series.ts';
import { type DashboardReads, dashboardReadsFor } from '../dashboard-reads.ts';

const CSV_HEADERS = (name: string) => ({
  'content-type': 'text/csv; charset=utf-8',
  'content-disposition': `attachment; filename="${name}"`,
  'cache-control': 'no-store',
});

/** A CSV file the reads worker wrote whole (dashboard-reads.ts), its buffer given back once sent. */
function csvBytes(
  c: Context,
  reads: Pick<DashboardReads, 'release'>,
  name: string,
  body: Uint8Array<ArrayBuffer>,
): Response {
  sentThen(c, () => reads.release(body));
  return new Response(body, { status: 200, headers: CSV_HEADERS(name) });
}

const IncidentQuery = z.object({
  state: z.enum(INCIDENT_STATES).optional().or(z.literal('')),
  kind: z.string().max(50).optional(),
  key: z.string().max(100).optional(),
  days: z.coerce.number().int().min(1).max(3650).default(30),
});

/**
 * Every export is read and written on the dashboard's reads worker (dashboard-reads.ts), one at a
 * time; the queries are checked here first, so a bad one gets the same 400 without a trip there.
 */
export function exportRoutes(deps: Deps) {
  const exports = dashboardReadsFor(deps);
  return new Hono<AppEnv>()
    .use(requireAuth(deps, 'read'), exports.admit)
    .get('/usage.csv', async (c) => {
      const query = c.req.query();
      if (query.step === 'month') {
        const group = GROUPS.find((g) => g === query.group);
        if (query.group && !group)
          throw validationError([{ path: 'group', message: `must be one of ${GROUPS.join(', ')}` }]);
        const body = await exports.run('monthlyCsv', group ? { group } : {});
        return csvBytes(c, exports, `usage-month${group ? `-by-${group}` : ''}.csv`, body);
      }
      const range = parseRangeQuery(query, deps.clock.now());
      const body = await exports.run('usageCsv', range);
      return csvBytes(c, exports, `usage-${range.step}${range.group ? `-by-${range.group}` : ''}.csv`, body);
    })
    .get('/key-usage.csv', async (c) => {
      const key = await getKey(deps, c.req.query('key') ?? '');
      const range = parseRangeQuery(c.req.query(), deps.clock.now());
      const body = await exports.run('keyUsageCsv', { keyId: key.id, range });
      return csvBytes(c, exports, `key-${key.name}-${range.step}.csv`.replace(/[^\w.-]/g, '_'), body);
    })
    .get('/keys.csv', async (c) => csvBytes(c, exports, 'keys.csv', await exports.run('keysCsv', undefined)))
    .get('/incidents.csv', async (c) => {
      const parsed = IncidentQuery.safeParse(c.req.query());
      if (!parsed.success) throw validationError(issuesFromZod(parsed.error.issues));
      const q = parsed.data;
      const body = await exports.run('incidentsCsv', {
        ...(q.state && { state: q.state }),
        ...(q.kind && { kind: q.kind }),
        ...(q.key && { keyId: q.key }),
        days: q.days,
      });
      return csvBytes(c, exports, 'incidents.csv', body);
    })
    .get('/audit.csv', requireAuth(deps, 'admin'), async (c) =>
      csvBytes(c, exports, 'audit.csv', await exports.run('auditCsv', undefined)),
    );
}
