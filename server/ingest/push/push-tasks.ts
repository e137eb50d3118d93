/**
 * The push API's work, run on its worker (push-worker.ts): decoding and parsing the body,
 * validating every event (zod over up to 10,000 of them) and the batch's one transaction, so none
 * of it holds the thread that serves the gateway and the dashboard. A batch commits its events
 * and keys; the worker folds their rollups in on a timer (push-worker.ts), and `fold` does it at
 * once for a read that must see them (the app's read barrier).
 */
import { dialectOf } from '../../db/transaction.ts';
import type { Deps } from '../../deps.ts';
import { parseJsonBytes } from '../../http/body.ts';
import { foldAllUsage } from '../../usage/fold-usage.ts';
import { usageRecorderFor } from '../../usage/recorder.ts';
import { parsePushBatch } from './push.ts';

export type PushOutcome = { accepted: number; duplicates: number; discovered: string[] };

export const pushTasks = {
  /** `body`: the request's bytes, transferred from the serving thread (about 1 MB at 10,000 events). */
  async push(deps: Deps, input: { body: ArrayBuffer }): Promise<PushOutcome> {
    const events = parsePushBatch(parseJsonBytes(input.body), deps.clock, {
      maxAgeDays: deps.config.retentionDays.events,
    });
    // A database in memory runs this inline, with no worker and so no timer to fold: written through.
    const deferRollups = dialectOf(deps.db) === 'sqlite' && !deps.sqlite.memory;
    const result = await usageRecorderFor(deps.db, deps.clock, { deferRollups }).record(events);
    return {
      accepted: result.accepted,
      duplicates: result.duplicates,
      discovered: result.discovered.map((k) => k.name),
    };
  },
  /** Folds every pending event into the rollups (SQLite); how many. */
  async fold(deps: Deps, _input: Record<string, never>): Promise<number> {
    return foldPendingOf(deps);
  },
};

/** The fold on SQLite; PostgreSQL writes rollups with each batch and has nothing pending. */
export function foldPendingOf(deps: Deps): number {
  return dialectOf(deps.db) === 'sqlite' ? foldAllUsage(deps.sqlite) : 0;
}
