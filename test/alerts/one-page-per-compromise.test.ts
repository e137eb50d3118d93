/**
 * On-call's view, end to end with a real SMTP server: one compromise is one incident and one page
 * until it resolves; a backfill of old history pages no one; a flood of random tokens from one
 * network at the gateway is one incident, not fifty.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { smtpMailerFactory } from '../../server/alerts/mailer.ts';
import { sendOutbox } from '../../server/alerts/send-outbox.ts';
import { DAY, HOUR, MINUTE } from '../../server/clock.ts';
import { DISCOVERY_LIMIT, type UsageEvent } from '../../server/usage/record-events.ts';
import { createTestApi } from '../helpers/api.ts';
import { type FakeMagicHour, startFakeMagicHour } from '../helpers/fake-magichour.ts';
import { alertEnv, closeAlertStore, openAlertStore, SECURITY_TO } from '../helpers/incident-fixtures.ts';
import type { TestSmtp } from '../helpers/smtp.ts';
import { type RunningApp, startApp } from '../helpers/sources.ts';
import { countRows, forEachStore, selectRows, type TestDeps } from '../helpers/store.ts';
import { recordUsage } from '../helpers/usage.ts';

let smtp: TestSmtp;
let deps: TestDeps;
let mailers: ReturnType<typeof smtpMailerFactory>;

/** 14 days of 5 credits every other minute, 08:00–20:00 UTC, for key `app`. */
function history(end: number): UsageEvent[] {
  const events: UsageEvent[] = [];
  for (let day = end - 14 * DAY - (end % DAY); day < end - (end % DAY); day += DAY) {
    for (let t = day + 8 * HOUR; t < day + 20 * HOUR; t += 2 * MINUTE) {
      events.push(event(`h${t}`, t, 5, 'ai-image-generator', '198.51.100.10'));
    }
  }
  return events;
}

function event(id: string, ts: number, credits: number, operation: string, ip: string): UsageEvent {
  return {
    source: 'push',
    eventId: id,
    key: { by: 'ref', value: 'app' },
    ts,
    credits,
    requests: 1,
    status: 200,
    operation,
    sourceIp: ip,
    userAgent: 'magic-hour-node/0.43.1',
  };
}

const deliver = () => sendOutbox(deps, mailers);

forEachStore((_kind, open) => {
  beforeEach(async () => {
    ({ smtp, deps, mailers } = await openAlertStore(open));
  });
  afterEach(() => closeAlertStore({ smtp, deps, mailers }));

  describe('one compromise, one incident, one page', () => {
    it('an hour of text-to-video from a new IP after two quiet weeks gives one email, then one resolve', async () => {
      // The attack: 16:00–17:00 UTC on the last day, 10 calls a minute at 120 credits from a new IP.
      const attackStart = Date.UTC(2026, 10, 26, 16, 0);
      const api = createTestApi(deps);
      const admin = await api.tokenFor('admin');
      expect(
        (await api.call('POST', '/api/v1/keys', admin, { name: 'app', environment: 'production' })).status,
      ).toBe(201);
      const attack: UsageEvent[] = [];
      for (let m = 0; m < 60; m++) {
        for (let i = 0; i < 10; i++) {
          attack.push(
            event(`a${m}-${i}`, attackStart + m * MINUTE + i * 5_000, 120, 'text-to-video', '203.0.113.9'),
          );
        }
      }
      await recordUsage(deps, [...history(attackStart), ...attack]);

      deps.clock.set(attackStart + HOUR + 2 * MINUTE);
      const run = await api.call('POST', '/api/v1/detect/run', admin, {});
      expect(run.status).toBe(200);
      await deliver();
      const incidents = await selectRows<{
        id: string;
        kind: string;
        signals: string;
        detected_at: number;
        started_at: number;
      }>(
        deps,
        `SELECT id, kind, signals, detected_at, started_at FROM incidents WHERE started_at >= ${attackStart - HOUR}`,
      );
      expect(incidents).toHaveLength(1);
      const kinds = (JSON.parse(incidents[0]!.signals) as { kind: string }[]).map((s) => s.kind);
      expect(kinds.length).toBeGreaterThan(1);
      expect(incidents[0]!.detected_at - attackStart).toBeLessThanOrEqual(5 * MINUTE);
      expect(smtp.received.map((m) => m.envelopeTo)).toEqual([[SECURITY_TO]]);
      expect(smtp.received[0]!.subject).toMatch(/^\[Keywatch\] (WARNING|CRITICAL) app\b/);
      expect(smtp.received[0]!.text).toContain(`/incidents/${incidents[0]!.id}`);

      // The key is quiet again (a burst's episode stays open 3 h for its aftermath, then the quiet
      // hour): one more message, the resolution; nothing about the history.
      deps.clock.advance(5 * HOUR);
      expect((await api.call('POST', '/api/v1/detect/run', admin, {})).status).toBe(200);
      await deliver();
      expect(smtp.received).toHaveLength(2);
      expect(smtp.received[1]!.subject).toMatch(/^\[Keywatch\] RESOLVED app\b/);
    });

    it('a backfill whose incidents all ended more than a day ago pages no one and is counted for the digest', async () => {
      const api = createTestApi(deps);
      const admin = await api.tokenFor('admin');
      await api.call('POST', '/api/v1/keys', admin, { name: 'app' });
      const burstAt = deps.clock.now() - 3 * DAY + 16 * HOUR - (deps.clock.now() % DAY);
      const burst: UsageEvent[] = [];
      for (let m = 0; m < 30; m++)
        burst.push(event(`b${m}`, burstAt + m * MINUTE, 2_000, 'text-to-video', '203.0.113.9'));
      await recordUsage(deps, [...history(deps.clock.now() - 2 * DAY), ...burst]);
      expect((await api.call('POST', '/api/v1/detect/run', admin, {})).status).toBe(200);
      await deliver();
      const recorded = await countRows(deps, 'incidents');
      expect(recorded).toBeGreaterThan(0);
      expect(smtp.received).toHaveLength(0);
      const silenced = await selectRows<{ silenced: string }>(
        deps,
        'SELECT silenced FROM alert_notifications',
      );
      expect(silenced.map((r) => r.silenced)).toContain('too_old');
    });
  });

  describe('unknown tokens at the gateway', () => {
    let fake: FakeMagicHour;
    let app: RunningApp;
    beforeEach(async () => {
      fake = await startFakeMagicHour();
      deps.cleanup();
      deps = await open({ ...alertEnv(smtp.url), MAGICHOUR_BASE_URL: fake.url });
      app = await startApp(deps, { timeoutMs: 2_000 });
    });
    afterEach(async () => {
      await app.close();
      await fake.close();
    });

    it('50 random tokens from one network are a handful of key rows and at most one message', async () => {
      for (let i = 0; i < 50; i++) {
        const res = await fetch(`${app.url}/gw/magichour/v1/ai-image-generator`, {
          method: 'POST',
          headers: {
            authorization: `Bearer mhk_live_${randomBytes(12).toString('hex')}`,
            'content-type': 'application/json',
          },
          body: JSON.stringify({ name: 'probe' }),
        });
        await res.arrayBuffer();
      }
      await app.flush();
      const discovered = await selectRows<{ name: string; last4: string | null }>(
        deps,
        `SELECT name, last4 FROM keys WHERE status = 'discovered' ORDER BY created_at, name`,
      );
      // A few keys of their own, then one row for the rest of that network.
      expect(discovered).toHaveLength(DISCOVERY_LIMIT + 1);
      expect(discovered.map((k) => k.name)).toContain('unknown keys 127.0.0.0/24');
      const [sum] = await selectRows<{ n: number }>(deps, 'SELECT sum(requests) AS n FROM usage_minute');
      expect(sum?.n).toBe(50);

      deps.clock.advance(10 * MINUTE);
      const api = createTestApi(deps);
      expect((await api.call('POST', '/api/v1/detect/run', await api.tokenFor('admin'), {})).status).toBe(
        200,
      );
      await deliver();
      const incidents = await selectRows<{ subject: string }>(deps, 'SELECT subject FROM incidents');
      expect(incidents).toEqual([{ subject: 'network:127.0.0.0/24' }]);
      expect(smtp.received.length).toBeLessThanOrEqual(1);
    });
  });
});
