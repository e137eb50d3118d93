/** GET /api/v1/account: the stored plan snapshot and which period budgets and the invoice count in. */
import { Hono } from 'hono';
import type { AppEnv } from '../auth/app-env.ts';
import { requireAuth } from '../auth/middleware.ts';
import type { Deps } from '../deps.ts';
import type { ApiOperation } from '../http/api-operation.ts';
import { readAccountView, toAccountJson } from './view.ts';

export const accountApi: ApiOperation[] = [
  {
    method: 'get',
    path: '/',
    summary: "The account's tier, plan and renewal as last polled, and the billing and budget periods in use",
    scope: 'read',
  },
];

export function accountRoutes(deps: Deps) {
  return new Hono<AppEnv>().get('/', requireAuth(deps, 'read'), async (c) =>
    c.json({ account: toAccountJson(await readAccountView(deps, deps.clock.now())) }),
  );
}
