/** /api/v1/invoice: the estimate of a period (read) and the plan setting (admin, audited). */
import { Hono } from 'hono';
import type { AppEnv } from '../auth/app-env.ts';
import { requireAuth } from '../auth/middleware.ts';
import type { Deps } from '../deps.ts';
import type { ApiOperation } from '../http/api-operation.ts';
import { limitBody, readJson } from '../http/body.ts';
import { EstimateQuerySchema, estimateInvoice } from './estimate.ts';
import { PlanSchema, planJson, readPlan, setPlan } from './plan.ts';

const BODY_LIMIT = 16 * 1024;

export const invoiceApi: ApiOperation[] = [
  {
    method: 'get',
    path: '/estimate',
    summary: "A period's credits priced band by band, with a forecast to its end",
    scope: 'read',
    query: EstimateQuerySchema,
  },
  { method: 'get', path: '/plan', summary: 'The invoice plan setting', scope: 'read' },
  {
    method: 'put',
    path: '/plan',
    summary: 'Set the invoice plan (audited)',
    scope: 'admin',
    body: PlanSchema,
  },
];

export function invoiceRoutes(deps: Deps) {
  return new Hono<AppEnv>()
    .get('/estimate', requireAuth(deps, 'read'), async (c) =>
      c.json(await estimateInvoice(deps, c.req.query())),
    )
    .get('/plan', requireAuth(deps, 'read'), async (c) => {
      const plan = await readPlan(deps.db);
      return c.json({ plan: plan && planJson(plan) });
    })
    .put('/plan', requireAuth(deps, 'admin'), limitBody(BODY_LIMIT), async (c) => {
      const plan = await setPlan(deps, await readJson(c), c.get('principal').actor);
      return c.json({ plan: planJson(plan) });
    });
}
