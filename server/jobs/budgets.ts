/** Job: evaluate budgets (thresholds and forecast) every few minutes. */
import { evaluateBudgets } from '../budgets/evaluate.ts';
import type { Deps } from '../deps.ts';
import type { IncidentListener } from '../incidents/events.ts';
import type { Job } from './scheduler.ts';

export function budgetsJob(deps: Deps, listener: IncidentListener): Job {
  return {
    name: 'budgets',
    everyMs: 5 * 60_000,
    async run() {
      await evaluateBudgets(deps, listener);
    },
  };
}
