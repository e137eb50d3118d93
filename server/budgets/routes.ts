/** /api/v1/budgets: list (with this month's spend and projection), create, edit, delete. */
import { Hono } from 'hono';
import type { AppEnv } from '../auth/app-env.ts';
import { requireAuth } from '../auth/middleware.ts';
import type { Deps } from '../deps.ts';
import type { ApiOperation } from '../http/api-operation.ts';
import { limitBody, readJson } from '../http/body.ts';
import {
  BudgetPatchSchema,
  createBudget,
  deleteBudget,
  getBudget,
  listBudgets,
  NewBudgetSchema,
  toBudgetView,
  updateBudget,
} from './budgets.ts';

const BODY_LIMIT = 16 * 1024;

export const budgetsApi: ApiOperation[] = [
  { method: 'get', path: '/', summary: "Budgets with this period's spend and projection", scope: 'read' },
  { method: 'get', path: '/:id', summary: 'One budget', scope: 'read' },
  {
    method: 'post',
    path: '/',
    summary: 'Create a budget',
    scope: 'admin',
    body: NewBudgetSchema,
    status: 201,
    errors: [409],
  },
  { method: 'patch', path: '/:id', summary: 'Edit a budget', scope: 'admin', body: BudgetPatchSchema },
  { method: 'delete', path: '/:id', summary: 'Delete a budget', scope: 'admin', status: 204 },
];

export function budgetRoutes(deps: Deps) {
  return new Hono<AppEnv>()
    .use(requireAuth(deps))
    .get('/', async (c) => {
      const budgets = [];
      for (const b of await listBudgets(deps.db)) budgets.push(await toBudgetView(deps, b));
      return c.json({ budgets });
    })
    .get('/:id', async (c) =>
      c.json({ budget: await toBudgetView(deps, await getBudget(deps.db, c.req.param('id'))) }),
    )
    .post('/', limitBody(BODY_LIMIT), async (c) => {
      const budget = await createBudget(deps, await readJson(c), c.get('principal').actor);
      return c.json({ budget: await toBudgetView(deps, budget) }, 201);
    })
    .patch('/:id', limitBody(BODY_LIMIT), async (c) => {
      const budget = await updateBudget(deps, c.req.param('id'), await readJson(c), c.get('principal').actor);
      return c.json({ budget: await toBudgetView(deps, budget) });
    })
    .delete('/:id', async (c) => {
      await deleteBudget(deps, c.req.param('id'), c.get('principal').actor);
      return c.body(null, 204);
    });
}
