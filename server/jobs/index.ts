/** The scheduled jobs of a running server. */
import type { Deps } from '../deps.ts';
import { createDetectJob } from './detect.ts';
import type { Job } from './scheduler.ts';

export function createJobs(deps: Deps): Job[] {
  return [createDetectJob(deps)];
}
