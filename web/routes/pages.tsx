/** The dashboard pages: each reads what exists server-side and leaves the rest to its client script. */
import { Hono } from 'hono';
import { z } from 'zod';
import { readAccountView } from '../../server/account/view.ts';
import { listAudit } from '../../server/audit/list.ts';
import { listApiTokens } from '../../server/auth/tokens.ts';
import { listUsers } from '../../server/auth/users.ts';
import { DAY } from '../../server/clock.ts';
import { INCIDENT_STATES } from '../../server/db/schema/index.ts';
import type { Deps } from '../../server/deps.ts';
import type { OpenApiDocument } from '../../server/http/openapi.ts';
import { sourceFreshness } from '../../server/ingest/health.ts';
import { findKey, listKeyChoices, toKeyView } from '../../server/keys/keys.ts';
import type { Assets } from '../assets.ts';
import type { PageContext } from '../components/layout.tsx';
import { sendPage } from '../components/render.ts';
import { lastDays } from '../components/windows.ts';
import { dashboardReadsFor } from '../dashboard-reads.ts';
import { ApiReferencePage } from '../pages/api-reference.tsx';
import { BudgetsPage } from '../pages/budgets.tsx';
import { CapacityPage } from '../pages/capacity.tsx';
import { IncidentDetailPage } from '../pages/incident-detail.tsx';
import { IncidentsPage } from '../pages/incidents.tsx';
import { InvoicePage } from '../pages/invoice.tsx';
import { KeyDetailPage } from '../pages/key-detail.tsx';
import { KeysPage } from '../pages/keys.tsx';
import { OverviewPage } from '../pages/overview.tsx';
import { SettingsPage } from '../pages/settings.tsx';
import { findIncident, listIncidents } from '../queries/incidents.ts';
import { ipsOf, operationsOf, userAgentsOf } from '../queries/key-activity.ts';
import { flagsFor, ipGroupCount } from '../queries/key-table.ts';
import { type PageEnv, requirePage } from './session.ts';

/** Keys listed by name in the overview's month table; the rest are summed as one row. */
const OVERVIEW_MONTH_KEYS = 10;
/** Series the capacity chart stacks (web/client/pages/capacity.ts draws at most this many). */
const CAPACITY_SERIES = 8;

const IncidentFilterSchema = z.object({
  state: z.enum(INCIDENT_STATES).or(z.literal('')).catch(''),
  kind: z.string().max(50).catch(''),
  key: z.string().max(100).catch(''),
  days: z.enum(['7', '30', '90', '365']).catch('30'),
});

function smtpHost(url: string | undefined): string | null {
  if (!url) return null;
  try {
    return new URL(url).host; // never the user or password in the URL
  } catch {
    return null;
  }
}

const FAVICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#14213d"/>' +
  '<circle cx="12" cy="16" r="6" fill="none" stroke="#f0a400" stroke-width="3"/>' +
  '<path d="M17 16h11v4M24 16v3" fill="none" stroke="#f0a400" stroke-width="3"/></svg>';

export function pageRoutes(deps: Deps, getAssets: () => Promise<Assets>, apiDocument: () => OpenApiDocument) {
  const { config, clock } = deps;
  const app = new Hono<PageEnv>();
  // Per route, not app.use(): mounted at '/', a wildcard would also catch unknown API paths.
  const auth = requirePage(deps);
  const reads = dashboardReadsFor(deps);
  const ctxOf = async (c: { get(k: 'session'): PageContext['session'] }): Promise<PageContext> => ({
    assets: await getAssets(),
    session: c.get('session'),
    creditPrice: config.creditPrice,
    timeZone: config.timeZone,
  });
  const notFoundPage = (what: string) =>
    `<!doctype html><title>Not found</title><p>${what} was not found. <a href="/">Back to the overview</a></p>`;

  // The browser asks for /favicon.ico on every page; an SVG answers it (no binary kept in the repo).
  app.get('/favicon.ico', (c) => {
    c.header('content-type', 'image/svg+xml');
    c.header('cache-control', 'public, max-age=86400');
    return c.body(FAVICON_SVG);
  });

  app.get('/', auth, reads.admit, async (c) => {
    // Read on the reads worker: the month card alone walks every key's months.
    const data = await reads.run('overview', { topMonthKeys: OVERVIEW_MONTH_KEYS });
    return sendPage(c, <OverviewPage ctx={await ctxOf(c)} data={data} />);
  });

  app.get('/keys', auth, reads.admit, async (c) => {
    const now = clock.now();
    const page = Number.parseInt(c.req.query('page') ?? '1', 10);
    // Every key's row is read and ranked on the reads worker; only the page shown comes back.
    const keys = await reads.run('keysPage', { page: Number.isFinite(page) ? page : 1 });
    return sendPage(c, <KeysPage ctx={await ctxOf(c)} keys={keys} now={now} />);
  });

  app.get('/keys/:id', auth, async (c) => {
    const row = await findKey(deps.db, c.req.param('id'));
    if (!row) return c.html(notFoundPage('That key'), 404);
    const now = clock.now();
    const key = toKeyView(row);
    const ipGroups = await ipGroupCount(deps.db, key.id, lastDays(now, 7).from);
    const from = lastDays(now, 30).from;
    const data = {
      key,
      now,
      flags: flagsFor(key, ipGroups, now),
      operations: await operationsOf(deps.db, key.id, from, now + 1),
      ips: await ipsOf(deps.db, key.id, from, now + 1),
      agents: await userAgentsOf(deps.db, key.id, from, now + 1),
      incidents: await listIncidents(deps, { keyId: key.id, limit: 50 }),
      // Keys this one can be rotated to: any other key that is not revoked.
      replacements: (await listKeyChoices(deps))
        .filter((k) => k.id !== key.id && k.status !== 'revoked')
        .map((k) => ({ id: k.id, name: k.name })),
    };
    return sendPage(c, <KeyDetailPage ctx={await ctxOf(c)} data={data} />);
  });

  app.get('/incidents', auth, async (c) => {
    const filter = IncidentFilterSchema.parse(c.req.query());
    const incidents = await listIncidents(deps, {
      ...(filter.state && { state: [filter.state] }),
      ...(filter.kind && { kind: filter.kind }),
      ...(filter.key && { keyId: filter.key }),
      from: clock.now() - Number(filter.days) * DAY,
    });
    const keys = (await listKeyChoices(deps)).map((k) => ({ id: k.id, name: k.name }));
    return sendPage(
      c,
      <IncidentsPage ctx={await ctxOf(c)} incidents={incidents} filter={filter} keys={keys} />,
    );
  });

  app.get('/incidents/:id', auth, async (c) => {
    const incident = await findIncident(deps, c.req.param('id'));
    if (!incident) return c.html(notFoundPage('That incident'), 404);
    return sendPage(c, <IncidentDetailPage ctx={await ctxOf(c)} incident={incident} />);
  });

  app.get('/budgets', auth, async (c) => {
    const keys = await listKeyChoices(deps);
    const environments = [...new Set(keys.map((k) => k.environment).filter((e): e is string => !!e))].sort();
    return sendPage(
      c,
      <BudgetsPage
        ctx={await ctxOf(c)}
        keys={keys.map((k) => ({ id: k.id, name: k.name }))}
        environments={environments}
        periodNote={(await readAccountView(deps, clock.now())).note}
      />,
    );
  });

  app.get('/capacity', auth, reads.admit, async (c) => {
    const now = clock.now();
    // Calendar months of KEYWATCH_TZ per grouping, computed on the reads worker: the browser only
    // has UTC days. What the stacked chart draws (its largest series and the rest summed); the CSV
    // has them all.
    const months = await reads.run('capacityMonths', { top: CAPACITY_SERIES - 1 });
    return sendPage(c, <CapacityPage ctx={await ctxOf(c)} now={now} months={months} />);
  });

  app.get('/invoice', auth, async (c) => sendPage(c, <InvoicePage ctx={await ctxOf(c)} now={clock.now()} />));

  app.get('/settings', auth, async (c) => {
    const admin = c.get('session').role === 'admin';
    const data = {
      users: admin ? await listUsers(deps) : [],
      tokens: admin ? await listApiTokens(deps) : [],
      audit: admin ? await listAudit(deps, { limit: 50 }) : [],
      freshness: await sourceFreshness(deps.db, clock.now()),
      account: await readAccountView(deps, clock.now()),
      smtp: {
        configured: config.smtpUrl !== undefined,
        host: smtpHost(config.smtpUrl),
        from: config.alertFrom,
        securityTo: config.alertSecurityTo,
        billingTo: config.alertBillingTo,
      },
    };
    return sendPage(c, <SettingsPage ctx={await ctxOf(c)} data={data} />);
  });

  app.get('/api-reference', auth, async (c) =>
    sendPage(c, <ApiReferencePage ctx={await ctxOf(c)} doc={apiDocument()} />),
  );

  return app;
}
