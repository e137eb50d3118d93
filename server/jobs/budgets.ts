/** Job: evaluate budgets (thresholds and forecast) every few minutes. */
import { createAlertListener } from '../alerts/notify.ts';
import { evaluateBudgets } from '../budgets/evaluate.ts';
import type { Deps } from '../deps.ts';
import type { Job } from './scheduler.ts';

export function budgetsJob(deps: Deps): Job {
  const listener = createAlertListener(deps);
  return { name: 'budgets', everyMs: 5 * 60_000, run: () => void evaluateBudgets(deps, listener) };
}
