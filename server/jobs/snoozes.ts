/** Job: reopen incidents whose snooze has ended. */

import type { Deps } from '../deps.ts';
import { wakeExpiredSnoozes } from '../incidents/snoozes.ts';
import type { Job } from './scheduler.ts';

export function snoozesJob(deps: Deps): Job {
  return { name: 'snoozes', everyMs: 60_000, run: () => void wakeExpiredSnoozes(deps) };
}
