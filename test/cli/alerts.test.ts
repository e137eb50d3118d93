import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startReceiver } from '../helpers/http-receiver.ts';
import { addKey, createWriter } from '../helpers/incident-fixtures.ts';
import { startSmtp, type TestSmtp } from '../helpers/smtp.ts';
import { createTestDeps, TEST_SECRET, type TestDeps } from '../helpers/store.ts';

const run = promisify(execFile);
const BIN = join(import.meta.dirname, '../../server/keywatch.mjs');

let deps: TestDeps;
let smtp: TestSmtp;

beforeEach(async () => {
  smtp = await startSmtp();
  deps = createTestDeps();
});
afterEach(async () => {
  deps.cleanup();
  await smtp.close();
});

const keywatch = (args: string[], env: Record<string, string>) =>
  run(process.execPath, [BIN, ...args], {
    timeout: 30_000,
    env: {
      PATH: process.env.PATH,
      KEYWATCH_DB: deps.dbPath,
      KEYWATCH_SECRET: TEST_SECRET,
      KEYWATCH_LOG_LEVEL: 'silent',
      ...env,
    },
  });

describe('keywatch alerts', () => {
  it('test sends a message through SMTP and prints its delivery', async () => {
    const { stdout } = await keywatch(['alerts', 'test', '--to', 'ops@example.com'], { SMTP_URL: smtp.url });
    expect(JSON.parse(stdout)).toMatchObject({ status: 'sent', to: ['ops@example.com'], attempts: 1 });
    expect(smtp.received.map((m) => [m.subject, m.envelopeTo])).toEqual([
      ['[Keywatch] Test message', ['ops@example.com']],
    ]);
    expect(smtp.received[0]!.text).toContain('requested by cli');
  });

  it('fails clearly, with a non-zero exit, when SMTP is not set or refuses', async () => {
    const unset = await keywatch(['alerts', 'test', '--to', 'ops@example.com'], {}).catch((e) => e);
    expect(unset.code).toBe(1);
    expect(unset.stderr).toContain('SMTP_URL is not set.');
    smtp.refuse = true;
    const refused = await keywatch(['alerts', 'test', '--to', 'ops@example.com'], {
      SMTP_URL: smtp.url,
    }).catch((e) => e);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/not delivered: .*421/);
  });

  it('send delivers a channel message without SMTP', async () => {
    const slack = await startReceiver();
    const env = { ALERT_SLACK_WEBHOOK_URL: `${slack.url}/services/T/B/X` };
    const withSlack = createTestDeps(env);
    try {
      await addKey(withSlack, 'prod-web');
      await createWriter(withSlack).open({
        keyId: 'key_prodweb',
        severity: 'critical',
        observed: 900,
        expected: 10,
      });
      const { stdout } = await run(process.execPath, [BIN, 'alerts', 'send'], {
        timeout: 30_000,
        env: {
          PATH: process.env.PATH,
          KEYWATCH_DB: withSlack.dbPath,
          KEYWATCH_SECRET: TEST_SECRET,
          KEYWATCH_LOG_LEVEL: 'silent',
          ...env,
        },
      });
      expect(JSON.parse(stdout)).toEqual({ sent: 1, failed: 0 });
      expect(slack.received).toHaveLength(1);
      expect(JSON.parse(slack.received[0]!.body).text).toContain('prod-web');
    } finally {
      withSlack.cleanup();
      await slack.close();
    }
  });
});
