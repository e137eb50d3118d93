/**
 * Admission for requests whose work waits in a worker thread's queue (large reads and exports,
 * push batches, backtests). The worker runs one task at a time; without a bound, one client firing
 * a hundred exports would queue them all, holding each request's input and answer in memory and
 * putting everyone else behind them. Here each caller (a user or a token) has at most `perCaller`
 * requests in flight and everyone together at most `total`; past either, the request is answered
 * 429 with Retry-After at once, before its body is read.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { errorBody } from '../http/errors.ts';
import { callerOf, type Principal } from './principal.ts';

export type InFlightLimits = {
  /** What the caller is waiting for, in the 429's message ("exports and large reads"). */
  work: string;
  perCaller: number;
  total: number;
  retryAfterS: number;
};

export type InFlight = {
  /**
   * Middleware; mount it after authentication, which names the caller: `principal` on the API,
   * `session` on the pages.
   */
  admit: MiddlewareHandler;
  /** Requests admitted and not yet answered. */
  count(): number;
};

export function limitInFlight(limits: InFlightLimits): InFlight {
  const byCaller = new Map<string, number>();
  let total = 0;
  const admit: MiddlewareHandler = async (c, next) => {
    const caller = callerOf(authenticated(c));
    const mine = byCaller.get(caller) ?? 0;
    if (mine >= limits.perCaller || total >= limits.total) {
      const message =
        mine >= limits.perCaller
          ? `${limits.perCaller} ${limits.work} of yours are still running (at most ${limits.perCaller} at a time per user or token). Retry when one has finished.`
          : `The server is busy with ${limits.work} (${limits.total} at a time). Retry in a moment.`;
      return c.json(errorBody('rate_limited', message), 429, { 'retry-after': String(limits.retryAfterS) });
    }
    byCaller.set(caller, mine + 1);
    total++;
    try {
      await next();
    } finally {
      total--;
      const left = byCaller.get(caller)! - 1;
      if (left > 0) byCaller.set(caller, left);
      else byCaller.delete(caller);
    }
  };
  return { admit, count: () => total };
}

function authenticated(c: Context): Principal {
  const p = (c.get('principal') ?? c.get('session')) as Principal | undefined;
  if (!p) throw new Error('limitInFlight mounted before authentication');
  return p;
}
