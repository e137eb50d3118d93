/** The scheduled jobs of a running server. */
import type { Deps } from '../deps.ts';
import type { Job } from './scheduler.ts';

export function createJobs(_deps: Deps): Job[] {
  return [];
}
