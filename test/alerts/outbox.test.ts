import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { smtpMailerFactory } from '../../server/alerts/mailer.ts';
import {
  claimDue,
  KEEP_DELIVERIES_MS,
  MAX_ATTEMPTS,
  pruneOutbox,
  STALE_SENDING_MS,
} from '../../server/alerts/outbox.ts';
import { sendOutbox } from '../../server/alerts/send-outbox.ts';
import { HOUR, MINUTE } from '../../server/clock.ts';
import { createTestApi } from '../helpers/api.ts';
import {
  addKey,
  closeAlertStore,
  createWriter,
  openAlertStore,
  outboxRows,
} from '../helpers/incident-fixtures.ts';
import type { TestSmtp } from '../helpers/smtp.ts';
import { forEachStore, type TestDeps } from '../helpers/store.ts';

let deps: TestDeps;
let smtp: TestSmtp;
let api: ReturnType<typeof createTestApi>;
let mailers: ReturnType<typeof smtpMailerFactory>;
let admin: string;

const deliver = () => sendOutbox(deps, mailers);

async function openIncidents(n: number) {
  const keyId = await addKey(deps, 'prod-web');
  const writer = createWriter(deps);
  for (let i = 0; i < n; i++)
    await writer.open({ keyId, observed: 1000 + i, expected: 100, impactCredits: 900 + i });
}

// The outbox is the store's: the same cases on SQLite and on PostgreSQL.
forEachStore((_kind, open) => {
  beforeEach(async () => {
    ({ smtp, deps, mailers } = await openAlertStore(open));
    api = createTestApi(deps);
    admin = await api.tokenFor('admin');
  });
  afterEach(() => closeAlertStore({ smtp, deps, mailers }));

  describe('the email outbox', () => {
    it('delivers every message exactly once when SMTP refuses for 10 minutes and then accepts', async () => {
      await openIncidents(3);
      const test = await api.call('POST', '/api/v1/alerts/test', admin, { to: ['ops@example.com'] });
      expect(test.status).toBe(202);
      expect(test.json.delivery).toMatchObject({ status: 'pending', attempts: 0, to: ['ops@example.com'] });

      const start = deps.clock.now();
      let sawFailing = false;
      smtp.refuse = true;
      while (deps.clock.now() - start < 25 * MINUTE) {
        smtp.refuse = deps.clock.now() - start < 10 * MINUTE;
        await deliver();
        if (smtp.refuse) {
          const status = await api.call('GET', '/api/v1/alerts/deliveries', admin);
          sawFailing ||= status.json.failing;
          expect(status.json.deliveries.every((d: { status: string }) => d.status === 'pending')).toBe(true);
        }
        deps.clock.advance(30_000);
      }

      expect(sawFailing).toBe(true);
      const rows = await outboxRows(deps);
      expect(rows).toHaveLength(4);
      expect(rows.every((r) => r.status === 'sent' && r.attempts > 1)).toBe(true);
      expect(smtp.received).toHaveLength(4);
      const ids = smtp.received.map((m) => m.messageId);
      expect(new Set(ids).size).toBe(4);
      const stored = await outboxRows(deps);
      expect(ids.sort()).toEqual(stored.map((r) => r.message_id).sort());
      expect(smtp.received.find((m) => m.subject === '[Keywatch] Test message')?.envelopeTo).toEqual([
        'ops@example.com',
      ]);

      const after = await api.call('GET', '/api/v1/alerts/deliveries', admin);
      expect(after.json.failing).toBe(false);
      expect(after.json.deliveries[0]).toMatchObject({ status: 'sent', last_error: null, incident_id: null });
      expect(after.json.deliveries[0].sent_at).toMatch(/Z$/);
    });

    it('never hands one message to two concurrent senders', async () => {
      await openIncidents(6);
      const [a, b] = await Promise.all([deliver(), deliver()]);
      expect(a.sent + b.sent).toBe(6);
      expect(smtp.received).toHaveLength(6);
      await deliver();
      expect(smtp.received).toHaveLength(6);
    });

    it('keeps messages while SMTP is not configured, and gives up only after many attempts', async () => {
      await openIncidents(1);
      expect(await sendOutbox(deps, () => null)).toEqual({ sent: 0, failed: 0, waiting: true });
      expect((await outboxRows(deps))[0]).toMatchObject({ status: 'pending', attempts: 0 });

      smtp.refuse = true;
      for (let i = 0; i < MAX_ATTEMPTS + 5; i++) {
        await deliver();
        deps.clock.advance(HOUR);
      }
      const [row] = await outboxRows(deps);
      expect(row).toMatchObject({ status: 'failed', attempts: MAX_ATTEMPTS });
      const status = await api.call('GET', '/api/v1/alerts/deliveries', admin);
      expect(status.json.failing).toBe(true);
      expect(status.json.deliveries[0].last_error).toMatch(/421|not available/i);
    });

    it('rejects a test send with no recipients and bad addresses', async () => {
      const none = await open({});
      try {
        const res = await createTestApi(none).call(
          'POST',
          '/api/v1/alerts/test',
          await createTestApi(none).tokenFor('admin'),
        );
        expect(res.status).toBe(400);
        expect(res.json.error.issues[0].path).toBe('to');
      } finally {
        none.cleanup();
      }
      const bad = await api.call('POST', '/api/v1/alerts/test', admin, { to: ['not-an-address'] });
      expect(bad.status).toBe(400);
      expect(await outboxRows(deps)).toHaveLength(0);
    });
  });

  describe('a sender that died mid-send', () => {
    it('leaves its message claimed for a while, then retries it once with the same Message-ID', async () => {
      await openIncidents(1);
      const [claimed] = await claimDue(deps.db, deps.clock.now());
      expect(claimed?.status).toBe('sending');
      await deliver();
      expect(smtp.received).toHaveLength(0);
      deps.clock.advance(STALE_SENDING_MS);
      await deliver();
      await deliver();
      expect(smtp.received.map((m) => m.messageId)).toEqual([claimed!.messageId]);
      expect((await outboxRows(deps))[0]).toMatchObject({ status: 'sent', attempts: 2 });
      deps.clock.advance(KEEP_DELIVERIES_MS - STALE_SENDING_MS - 1);
      expect(await pruneOutbox(deps.db, deps.clock.now())).toBe(0);
      deps.clock.advance(1);
      expect(await pruneOutbox(deps.db, deps.clock.now())).toBe(1);
    });
  });
});
