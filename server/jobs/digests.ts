/** Job: queue the daily and weekly digests when their period has ended (idempotent). */
import { sendDueDigests } from '../alerts/digests.ts';
import type { Deps } from '../deps.ts';
import type { Job } from './scheduler.ts';

export function digestsJob(deps: Deps): Job {
  return {
    name: 'digests',
    everyMs: 10 * 60_000,
    async run() {
      await sendDueDigests(deps);
    },
  };
}
