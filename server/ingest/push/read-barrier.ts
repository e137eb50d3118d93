/**
 * Read-your-writes for HTTP: pushed batches commit their events before their rollups (the push
 * worker folds those in on a timer, usage/fold-usage.ts), so a request that may read rollups waits,
 * when anything is pending, for the push worker to fold it. The serving thread itself never takes
 * the write lock for it nor spends the fold's CPU; with nothing pending the check is two index
 * lookups.
 */
import type { MiddlewareHandler } from 'hono';
import { dialectOf } from '../../db/transaction.ts';
import type { Deps } from '../../deps.ts';
import { settleUsage, usagePending } from '../../usage/fold-usage.ts';
import type { PushWorker } from './routes.ts';

/** Requests that read no rollups: probes, static assets, and the push API's own writes. */
function readsNoUsage(method: string, path: string): boolean {
  return (
    path === '/healthz' ||
    path === '/readyz' ||
    path.startsWith('/assets/') ||
    (method === 'POST' && path === '/api/v1/usage')
  );
}

/**
 * Waits until every pushed event stored before the call is in the rollups, the push worker doing
 * the folding: on the serving thread a fold of a second of heavy push is tens of milliseconds the
 * gateway would wait behind.
 */
export async function settleThroughWorker(deps: Deps, worker: PushWorker): Promise<void> {
  if (dialectOf(deps.db) !== 'sqlite' || !usagePending(deps.sqlite)) return;
  try {
    await worker.run('fold', {});
  } catch {
    // The worker is gone (closing, crashed): this connection folds, without blocking its thread.
    await settleUsage(deps.db);
  }
}

export function settleBeforeReads(settle: () => Promise<void>): MiddlewareHandler {
  return async (c, next) => {
    if (!readsNoUsage(c.req.method, c.req.path)) await settle();
    await next();
  };
}
