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
import {
  groupedSeries,
  keySeries,
  type MonthTotals,
  monthlyTotals,
  totalSeries,
} from '../../server/usage/series.ts';
import { type Cell, csvLines } from '../csv.ts';
import { listIncidents } from '../queries/incidents.ts';
import { listKeyRows } from '../queries/key-table.ts';

const POINT_HEADER = ['ts', 'credits', 'requests', 'errors', 'auth_failures'];

/** A CSV download, formatted row by row as the client reads it (never one string in memory). */
function csv(name: string, header: string[], rows: Iterable<Cell[]>): Response {
  return streamResponse(csvLines(header, rows), {
    'content-type': 'text/csv; charset=utf-8',
    'content-disposition': `attachment; filename="${name}"`,
    'cache-control': 'no-store',
  });
}

const IncidentQuery = z.object({
  state: z.enum(INCIDENT_STATES).optional().or(z.literal('')),
  kind: z.string().max(50).optional(),
  key: z.string().max(100).optional(),
  days: z.coerce.number().int().min(1).max(3650).default(30),
});

export function exportRoutes(deps: Deps) {
  return new Hono<AppEnv>()
    .use(requireAuth(deps, 'read'))
    .get('/usage.csv', (c) => {
      const query = c.req.query();
      const monthly = query.step === 'month';
      const now = deps.clock.now();
      const range = parseRangeQuery(
        monthly ? { ...query, step: 'day', from: query.from ?? String(now - 365 * DAY) } : query,
        now,
      );
      const point = (p: {
        ts: number;
        credits: number;
        requests: number;
        errors: number;
        auth_failures: number;
      }) => [iso(p.ts), p.credits, p.requests, p.errors, p.auth_failures] as Cell[];
      if (monthly) {
        // Whole UTC calendar months touching the range, from the month rollup.
        const months = monthlyTotals(deps.sqlite, range.from, range.to, range.group);
        const cells = (m: MonthTotals): Cell[] => [m.month, m.credits, m.requests, m.errors, m.auth_failures];
        const rows = months.map((m) => (range.group ? [m.group, ...cells(m)] : cells(m)));
        const header = [...(range.group ? [range.group] : []), 'month', ...POINT_HEADER.slice(1)];
        return csv(`usage-month${range.group ? `-by-${range.group}` : ''}.csv`, header, rows);
      }
      if (range.group) {
        const { groups } = groupedSeries(deps.sqlite, range, range.group);
        const rows = (function* () {
          for (const g of groups) for (const p of g.points) yield [g.group, ...point(p)];
        })();
        const header = [range.group, 'ts', ...POINT_HEADER.slice(1)];
        return csv(`usage-${range.step}-by-${range.group}.csv`, header, rows);
      }
      return csv(`usage-${range.step}.csv`, POINT_HEADER, totalSeries(deps.sqlite, range).map(point));
    })
    .get('/key-usage.csv', (c) => {
      const key = getKey(deps, c.req.query('key') ?? '');
      const range = parseRangeQuery(c.req.query(), deps.clock.now());
      const rows = keySeries(deps.sqlite, key.id, range).map((p) => [
        iso(p.ts),
        p.credits,
        p.requests,
        p.errors,
        p.auth_failures,
      ]);
      return csv(`key-${key.name}-${range.step}.csv`.replace(/[^\w.-]/g, '_'), POINT_HEADER, rows);
    })
    .get('/keys.csv', () => {
      const rows = listKeyRows(deps, deps.clock.now()).map((k) => [
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
    .get('/incidents.csv', (c) => {
      const parsed = IncidentQuery.safeParse(c.req.query());
      if (!parsed.success) throw validationError(issuesFromZod(parsed.error.issues));
      const q = parsed.data;
      const incidents = listIncidents(deps, {
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
        i.observed,
        i.expected,
        i.impact_credits,
        i.summary,
      ]);
      return csv('incidents.csv', header, rows);
    })
    .get('/audit.csv', requireAuth(deps, 'admin'), () => {
      const rows = listAudit(deps, { limit: 10_000 }).map((a) => [
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
