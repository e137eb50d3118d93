/** Job: reopen incidents whose snooze has ended. */
import type { Deps } from '../deps.ts';
import { wakeExpiredSnoozes } from '../incidents/actions.ts';
import type { IncidentListener } from '../incidents/events.ts';
import type { Job } from './scheduler.ts';

export function snoozesJob(deps: Deps, listener: IncidentListener): Job {
  return {
    name: 'snoozes',
    everyMs: 60_000,
    async run() {
      await wakeExpiredSnoozes({ ...deps, listener });
    },
  };
}
