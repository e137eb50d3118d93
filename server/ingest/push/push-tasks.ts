/**
 * The push API's work, run on its worker (push-worker.ts): decoding and parsing the body,
 * validating every event (zod over up to 10,000 of them) and the batch's one transaction, so none
 * of it holds the thread that serves the gateway and the dashboard.
 */
import type { Deps } from '../../deps.ts';
import { parseJsonBytes } from '../../http/body.ts';
import { usageRecorderFor } from '../../usage/recorder.ts';
import { parsePushBatch } from './push.ts';

export type PushOutcome = { accepted: number; duplicates: number; discovered: string[] };

export const pushTasks = {
  /** `body`: the request's bytes, transferred from the serving thread (about 1 MB at 10,000 events). */
  async push(deps: Deps, input: { body: ArrayBuffer }): Promise<PushOutcome> {
    const events = parsePushBatch(parseJsonBytes(input.body), deps.clock, {
      maxAgeDays: deps.config.retentionDays.events,
    });
    const result = await usageRecorderFor(deps.db, deps.clock).record(events);
    return {
      accepted: result.accepted,
      duplicates: result.duplicates,
      discovered: result.discovered.map((k) => k.name),
    };
  },
};
