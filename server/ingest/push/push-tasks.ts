/**
 * The push API's work, run on its worker (push-worker.ts): parsing the body, validating every
 * event (zod over up to 10,000 of them) and the batch's one transaction, so none of it holds the
 * thread that serves the gateway and the dashboard.
 */
import type { Deps } from '../../deps.ts';
import { parseJsonText } from '../../http/body.ts';
import { recordEvents } from '../../usage/record-events.ts';
import { parsePushBatch } from './push.ts';

export type PushOutcome = { accepted: number; duplicates: number; discovered: string[] };

export const pushTasks = {
  push(deps: Deps, input: { body: string }): PushOutcome {
    const events = parsePushBatch(parseJsonText(input.body), deps.clock, {
      maxAgeDays: deps.config.retentionDays.events,
    });
    const result = recordEvents(deps, events);
    return {
      accepted: result.accepted,
      duplicates: result.duplicates,
      discovered: result.discovered.map((k) => k.name),
    };
  },
};
