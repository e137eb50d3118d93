/** The scheduled jobs of a running server. */
import type { Fetch } from '../alerts/channels/http.ts';
import { type MailerFactory, smtpMailerFactory } from '../alerts/mailer.ts';
import { createAlertListener } from '../alerts/notify.ts';
import type { Deps } from '../deps.ts';
import { type DetectionRunner, inThreadRunner } from '../detection/runner.ts';
import { settleUsage } from '../usage/fold-usage.ts';
import { createBalancePollJob } from './balance-poll.ts';
import { budgetsJob } from './budgets.ts';
import { createDetectJob } from './detect.ts';
import { digestsJob } from './digests.ts';
import { outboxJob } from './outbox.ts';
import { retentionJob } from './retention.ts';
import type { Job } from './scheduler.ts';
import { snoozesJob } from './snoozes.ts';

/**
 * `fetch` posts to the webhook, Slack and PagerDuty channels (the global one by default);
 * `detection` runs detection (serve.ts gives the detection worker; by default, this thread).
 */
export type JobOptions = {
  mailers?: MailerFactory;
  fetch?: Fetch;
  detection?: DetectionRunner;
  /**
   * The read barrier for jobs that read rollups on this thread (default: fold here). A server passes
   * its push worker's (SourceServices.settleUsage), so the serving thread never does a fold's work.
   */
  settleUsage?: () => Promise<void>;
};

/**
 * The global fetch, looked up at each call: reading `globalThis.fetch` makes Node load its fetch
 * implementation (undici, with its connection pool), which a start would otherwise do before listening.
 */
const fetchWhenCalled: Fetch = (input, init) => globalThis.fetch(input, init);

export function createJobs(deps: Deps, options: JobOptions = {}): Job[] {
  const mailers = options.mailers ?? smtpMailerFactory(deps.config.smtpUrl);
  // Every job that changes incidents tells alerting through the same listener.
  const listener = createAlertListener(deps);
  const settle = options.settleUsage ?? (() => settleUsage(deps.db));
  return [
    // Detection and retention settle pushed usage themselves, in their own threads.
    createDetectJob(deps, options.detection ?? inThreadRunner(deps, listener)),
    retentionJob(deps),
    outboxJob(deps, mailers, options.fetch ?? fetchWhenCalled),
    snoozesJob(deps, listener),
    afterSettling(settle, budgetsJob(deps, listener)),
    afterSettling(settle, digestsJob(deps)),
    afterSettling(settle, createBalancePollJob(deps)),
  ];
}

/** A job that reads rollups sees every batch pushed before its run (usage/fold-usage.ts). */
function afterSettling(settle: () => Promise<void>, job: Job): Job {
  return {
    ...job,
    async run() {
      await settle();
      await job.run();
    },
  };
}
