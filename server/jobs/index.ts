/** The scheduled jobs of a running server. */
import type { Deps } from '../deps.ts';
import { createBalancePollJob } from './balance-poll.ts';
import type { Job } from './scheduler.ts';

export function createJobs(deps: Deps): Job[] {
  return [createBalancePollJob(deps)];
}
