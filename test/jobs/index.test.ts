import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { smtpMailerFactory } from '../../server/alerts/mailer.ts';
import { createJobs } from '../../server/jobs/index.ts';
import { startScheduler } from '../../server/jobs/scheduler.ts';
import { addKey, alertEnv, createWriter, outboxRows } from '../helpers/incident-fixtures.ts';
import { startSmtp, type TestSmtp } from '../helpers/smtp.ts';
import { createTestDeps, type TestDeps } from '../helpers/store.ts';

let deps: TestDeps;
let smtp: TestSmtp;

beforeEach(async () => {
  smtp = await startSmtp();
  deps = createTestDeps(alertEnv(smtp.url));
});
afterEach(async () => {
  deps.cleanup();
  await smtp.close();
});

describe('alerting jobs', () => {
  it('are scheduled by createJobs and do their work when run', async () => {
    const mailers = smtpMailerFactory(deps.config.smtpUrl);
    const jobs = createJobs(deps, { mailers });
    expect(jobs.map((j) => j.name)).toEqual([
      'detect',
      'retention',
      'outbox',
      'snoozes',
      'budgets',
      'digests',
      'balance-poll',
    ]);
    const scheduler = startScheduler(jobs, deps.log);
    try {
      await createWriter(deps).open({ keyId: await addKey(deps, 'prod-web'), observed: 10, expected: 1 });
      await scheduler.runNow('digests');
      await scheduler.runNow('budgets');
      await scheduler.runNow('snoozes');
      await scheduler.runNow('outbox');
      expect((await outboxRows(deps)).map((r) => [r.category, r.status])).toEqual([
        ['incident', 'sent'],
        ['digest', 'sent'],
        ['digest', 'sent'],
      ]);
      expect(smtp.received).toHaveLength(3);
    } finally {
      await scheduler.stop();
      mailers()?.close();
    }
  });

  it("read rollups only after the barrier they are given (a server passes its push worker's)", async () => {
    const settled: string[] = [];
    const mailers = smtpMailerFactory(deps.config.smtpUrl);
    const jobs = createJobs(deps, {
      mailers,
      settleUsage: async () => {
        settled.push('settled');
      },
    });
    const scheduler = startScheduler(jobs, deps.log);
    try {
      settled.length = 0;
      for (const name of ['budgets', 'digests', 'balance-poll', 'snoozes']) await scheduler.runNow(name);
      // The three jobs that read rollups on this thread, once each; snoozes reads none.
      expect(settled).toEqual(['settled', 'settled', 'settled']);
    } finally {
      await scheduler.stop();
      mailers()?.close();
    }
  });
});
