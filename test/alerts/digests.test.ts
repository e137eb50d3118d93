import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sendDueDigests } from '../../server/alerts/digests.ts';
import type { smtpMailerFactory } from '../../server/alerts/mailer.ts';
import { sendOutbox } from '../../server/alerts/send-outbox.ts';
import {
  addKey,
  alertEnv,
  BILLING_TO,
  closeAlertStore,
  createWriter,
  openAlertStore,
} from '../helpers/incident-fixtures.ts';
import type { TestSmtp } from '../helpers/smtp.ts';
import { forEachStore, type TestDeps } from '../helpers/store.ts';
import { pushedEvent, recordUsage } from '../helpers/usage.ts';

let deps: TestDeps;
let smtp: TestSmtp;
let mailers: ReturnType<typeof smtpMailerFactory>;

const spend = (keyId: string, day: number, credits: number) =>
  recordUsage(deps, [pushedEvent(keyId, `${keyId}-${day}`, Date.UTC(2026, 10, day, 10), credits)]);

forEachStore((_kind, open) => {
  beforeEach(async () => {
    ({ smtp, deps, mailers } = await openAlertStore(open));
  });
  afterEach(() => closeAlertStore({ smtp, deps, mailers }));

  describe('digests', () => {
    it('sends yesterday and last week once each, after the morning hour, with spend, movers, incidents and forecast', async () => {
      const prod = await addKey(deps, 'prod-web');
      const staging = await addKey(deps, 'staging-api', { environment: 'staging' });
      const batch = await addKey(deps, 'batch-jobs', { environment: 'production' });
      await spend(prod, 24, 10_000);
      await spend(prod, 25, 12_000);
      await spend(staging, 24, 2_000);
      await spend(staging, 25, 500);
      await spend(batch, 25, 300);
      await spend(prod, 18, 5_000);
      const writer = createWriter(deps, async () => {});
      await writer.open({
        keyId: prod,
        kind: 'off_hours',
        severity: 'warning',
        summary: 'prod-web active at 03:00',
      });
      await writer.resolve((await writer.open({ keyId: staging, summary: 'old' })).id);

      expect(await sendDueDigests(deps)).toEqual(['daily:2026-11-25', 'weekly:2026-11-16']);
      expect(await sendDueDigests(deps)).toEqual([]);
      await sendOutbox(deps, mailers);
      expect(smtp.received).toHaveLength(2);
      const [daily, weekly] = smtp.received;
      expect(daily!.envelopeTo).toEqual([BILLING_TO]);
      expect(daily!.subject).toBe('[Keywatch] Daily digest 2026-11-25: 12,800 credits (+7% vs previous day)');
      expect(daily!.text).toMatch(/prod-web\s+production\s+12,000\s+10,000\s+\+20%/);
      expect(daily!.text).toMatch(/staging-api\s+staging\s+500\s+2,000\s+-75%/);
      expect(daily!.text).toMatch(/batch-jobs\s+production\s+300\s+0\s+new/);
      const movers = daily!.text.split('Top movers:')[1]!.split('\n\n')[0]!;
      expect(
        movers
          .split('\n')
          .slice(2)
          .map((l) => l.split(/\s+/)[0]),
      ).toEqual(['prod-web', 'staging-api', 'batch-jobs']);
      expect(daily!.text).toContain('Open incidents (1):');
      expect(daily!.text).toMatch(/warning\s+Activity at unusual hours\s+prod-web/);
      expect(daily!.text).toContain('Spent in 2026-11 so far: 29,800 credits.');
      expect(daily!.text).toMatch(/Projected by month end: [\d,]+ credits\./);
      expect(daily!.html).toContain('<td style="padding:4px 8px">prod-web</td>');
      expect(weekly!.subject).toBe(
        '[Keywatch] Weekly digest week of 2026-11-16: 5,000 credits (new vs previous week)',
      );

      deps.clock.set(Date.UTC(2026, 10, 27, 6, 59));
      expect(await sendDueDigests(deps)).toEqual([]);
      deps.clock.set(Date.UTC(2026, 10, 27, 7, 0));
      expect(await sendDueDigests(deps)).toEqual(['daily:2026-11-26']);
    });

    it('follows the configured time zone', async () => {
      const tokyo = await open({ ...alertEnv(), KEYWATCH_TZ: 'Asia/Tokyo' });
      try {
        // 2026-11-26 12:00 UTC is 21:00 in Tokyo: the 25th (Tokyo) ended 21 hours ago.
        expect(await sendDueDigests(tokyo)).toEqual(['daily:2026-11-25', 'weekly:2026-11-16']);
        tokyo.clock.set(Date.UTC(2026, 10, 26, 22, 0)); // 07:00 on the 27th in Tokyo
        expect(await sendDueDigests(tokyo)).toEqual(['daily:2026-11-26']);
      } finally {
        tokyo.cleanup();
      }
    });
  });
});
