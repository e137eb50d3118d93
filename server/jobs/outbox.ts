/** Job: send the outbox, every channel (retries are scheduled by the rows themselves) and prune old deliveries. */
import type { Fetch } from '../alerts/channels/http.ts';
import type { MailerFactory } from '../alerts/mailer.ts';
import { pruneOutbox } from '../alerts/outbox.ts';
import { sendOutbox } from '../alerts/send-outbox.ts';
import type { Deps } from '../deps.ts';
import type { Job } from './scheduler.ts';

export function outboxJob(deps: Deps, mailers: MailerFactory, fetchFn: Fetch): Job {
  return {
    name: 'outbox',
    everyMs: 15_000,
    async run() {
      await sendOutbox(deps, mailers, fetchFn);
      await pruneOutbox(deps.db, deps.clock.now());
    },
  };
}
