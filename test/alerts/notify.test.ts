import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { smtpMailerFactory } from '../../server/alerts/mailer.ts';
import { createAlertListener } from '../../server/alerts/notify.ts';
import { saveRouting } from '../../server/alerts/routing.ts';
import { sendOutbox } from '../../server/alerts/send-outbox.ts';
import { HOUR, MINUTE } from '../../server/clock.ts';
import {
  acknowledgeIncident as ack,
  snoozeIncident as snooze,
  wakeExpiredSnoozes as wake,
} from '../../server/incidents/actions.ts';
import {
  addKey,
  BILLING_TO,
  closeAlertStore,
  createWriter,
  credit_details,
  openAlertStore,
  SECURITY_TO,
} from '../helpers/incident-fixtures.ts';
import type { TestSmtp } from '../helpers/smtp.ts';
import { forEachStore, selectRows, type TestDeps } from '../helpers/store.ts';

let deps: TestDeps;
let smtp: TestSmtp;
let writer: ReturnType<typeof createWriter>;
let mailers: ReturnType<typeof smtpMailerFactory>;
let keyId: string;

const deliver = () => sendOutbox(deps, mailers);
/** ALERT_REPEAT_MINUTES (60 by default) and a minute. */
const REPEAT = 61 * MINUTE;
const withAlerts = () => ({ ...deps, listener: createAlertListener(deps) });
const acknowledgeIncident = (id: string, input: unknown, actor: string) =>
  ack(withAlerts(), id, input, actor);
const snoozeIncident = (id: string, input: unknown, actor: string) => snooze(withAlerts(), id, input, actor);
const wakeExpiredSnoozes = () => wake(withAlerts());
const spike = (impactCredits: number, extra = {}) => {
  const now = deps.clock.now();
  return {
    keyId,
    kind: 'credit_spike',
    severity: 'critical' as const,
    observed: 42_300,
    expected: 1_200,
    score: 0.99,
    impactCredits,
    summary: 'prod-web spent 42,300 credits in 2 hours, 35 times its usual rate.',
    details: JSON.stringify(credit_details(now - 2 * HOUR, now)),
    ...extra,
  };
};

forEachStore((_kind, open) => {
  beforeEach(async () => {
    ({ smtp, deps, mailers } = await openAlertStore(open));
    writer = createWriter(deps);
    keyId = await addKey(deps, 'prod-web');
  });
  afterEach(() => closeAlertStore({ smtp, deps, mailers }));

  describe('incident notifications', () => {
    it('sends one email when an incident opens, none for unchanged updates, one when it resolves', async () => {
      const incident = await writer.open(spike(41_100));
      await deliver();
      expect(smtp.received).toHaveLength(1);
      const mail = smtp.received[0]!;
      expect(mail.subject).toBe('[Keywatch] CRITICAL prod-web (…a1b2): 42,300 credits in 2 h, 35x normal');
      expect(mail.from).toBe('Keywatch <alerts@keywatch.test>');
      expect(mail.envelopeTo).toEqual([SECURITY_TO]);
      expect(mail.headers.get('x-keywatch-incident')).toBe(incident.id);
      expect(mail.text).toContain('Observed:    42,300 credits');
      expect(mail.text).toContain(
        'Expected:    1,200 credits (usual range for this hour of the week: 800–1,700)',
      );
      expect(mail.text).toMatch(/face-swap\s+30,000\s+250/);
      expect(mail.text).toContain('198.51.100.23');
      expect(mail.text).toContain('Revoke the key now in the Magic Hour Developer Hub');
      expect(mail.text).toContain(`https://keywatch.example.com/incidents/${incident.id}`);
      expect(mail.html).toContain(`<a href="https://keywatch.example.com/incidents/${incident.id}">`);

      for (let i = 0; i < 5; i++) {
        deps.clock.advance(5 * MINUTE);
        await writer.update(incident.id, { lastSeenAt: deps.clock.now(), impactCredits: 41_100 + i * 1000 });
        await deliver();
      }
      expect(smtp.received).toHaveLength(1);

      await writer.resolve(incident.id);
      await deliver();
      await deliver();
      expect(smtp.received).toHaveLength(2);
      expect(smtp.received[1]!.subject).toMatch(/^\[Keywatch\] RESOLVED prod-web \(…a1b2\): /);
      expect(smtp.received[1]!.text).toContain('This incident is resolved.');
      expect(smtp.received[1]!.messageId).not.toBe(mail.messageId);
    });

    it('an incident that opens and resolves before its message goes out is one message', async () => {
      const { id } = await writer.open(spike(3_000));
      await writer.update(id, { impactCredits: 4_000 });
      await writer.resolve(id);
      await deliver();
      expect(smtp.received).toHaveLength(1);
      expect(smtp.received[0]!.subject).toMatch(/^\[Keywatch\] RESOLVED prod-web/);
      expect(smtp.received[0]!.text).toContain('back to normal before this notice went out');
      expect(smtp.received[0]!.text).toContain('Impact:      4,000 credits');
    });

    it('records silently what is too old when judged or below the credit floor', async () => {
      await writer.open(spike(3_000, { lastSeenAt: deps.clock.now() - 25 * HOUR }));
      await writer.open(spike(5, { details: JSON.stringify({ unit: 'credits', pages: false }) }));
      await deliver();
      expect(smtp.received).toHaveLength(0);
      const silenced = await selectRows(deps, 'SELECT silenced FROM alert_notifications ORDER BY silenced');
      expect(silenced).toEqual([{ silenced: 'below_floor' }, { silenced: 'too_old' }]);
    });

    it('re-notifies only when the impact at least doubles since the last notice', async () => {
      const { id } = await writer.open(spike(1_000));
      await deliver();
      await writer.update(id, { impactCredits: 1_999 });
      await deliver();
      expect(smtp.received.map((m) => m.subject)).toHaveLength(1);
      // Doubled, but within ALERT_REPEAT_MINUTES of the last message: not yet.
      await writer.update(id, { impactCredits: 2_000 });
      await deliver();
      expect(smtp.received).toHaveLength(1);
      deps.clock.advance(REPEAT);
      await writer.update(id, { impactCredits: 3_900 });
      await deliver();
      expect(smtp.received).toHaveLength(2);
      expect(smtp.received[1]!.subject).toContain('(impact doubled)');
      expect(smtp.received[1]!.text).toContain('Its impact has at least doubled');
      deps.clock.advance(REPEAT);
      await writer.update(id, { impactCredits: 7_000 });
      await deliver();
      expect(smtp.received).toHaveLength(2);
      await writer.update(id, { impactCredits: 7_800 });
      await deliver();
      expect(smtp.received).toHaveLength(3);
    });

    it('measures non-credit kinds by what was observed', async () => {
      const { id } = await writer.open({
        keyId,
        kind: 'auth_failures',
        observed: 40,
        expected: 2,
        details: JSON.stringify({ unit: 'auth failures' }),
      });
      await deliver();
      deps.clock.advance(REPEAT);
      await writer.update(id, { observed: 79 });
      await writer.update(id, { observed: 80 });
      await deliver();
      expect(smtp.received.map((m) => m.subject)).toEqual([
        '[Keywatch] WARNING prod-web (…a1b2): 40 auth failures in 2 h, 20x normal',
        '[Keywatch] WARNING prod-web (…a1b2): 80 auth failures in 2 h, 40x normal (impact doubled)',
      ]);
    });

    it('stays quiet while acknowledged unless severity rises', async () => {
      const { id } = await writer.open(spike(1_000, { severity: 'warning' }));
      await acknowledgeIncident(id, { note: 'looking' }, 'alice@example.com');
      await writer.update(id, { impactCredits: 10_000 });
      await deliver();
      expect(smtp.received).toHaveLength(1);
      deps.clock.advance(REPEAT);
      await writer.update(id, { severity: 'critical' });
      await deliver();
      expect(smtp.received).toHaveLength(2);
      expect(smtp.received[1]!.subject).toMatch(/^\[Keywatch\] CRITICAL /);
      expect(smtp.received[1]!.text).toContain('Its severity has risen');
    });

    it('a snoozed incident wakes early when severity rises', async () => {
      const { id } = await writer.open(spike(1_000, { severity: 'warning' }));
      await snoozeIncident(id, { minutes: 120 }, 'alice@example.com');
      await writer.update(id, { impactCredits: 5_000 });
      await deliver();
      expect(smtp.received).toHaveLength(1);
      deps.clock.advance(REPEAT);
      const woken = await writer.update(id, { severity: 'critical' });
      expect(woken.state).toBe('open');
      const [row] = await selectRows(deps, `SELECT state, snoozed_until FROM incidents WHERE id = '${id}'`);
      expect(row).toEqual({ state: 'open', snoozed_until: null });
      await deliver();
      expect(smtp.received).toHaveLength(2);
    });

    it('when a snooze expires the incident reopens, and people hear of it only if it grew', async () => {
      const quiet = await writer.open(spike(1_000));
      const grown = await writer.open(spike(1_000, { kind: 'sustained_elevation' }));
      await deliver();
      await snoozeIncident(quiet.id, { minutes: 30 }, 'alice@example.com');
      await snoozeIncident(grown.id, { minutes: 30 }, 'alice@example.com');
      await writer.update(grown.id, { impactCredits: 2_500 });
      deps.clock.advance(29 * MINUTE);
      expect(await wakeExpiredSnoozes()).toBe(0);
      deps.clock.advance(2 * MINUTE);
      expect(await wakeExpiredSnoozes()).toBe(2);
      const states = await selectRows(deps, 'SELECT id, state FROM incidents');
      expect(states).toHaveLength(2);
      expect(states).toEqual(
        expect.arrayContaining([
          { id: quiet.id, state: 'open' },
          { id: grown.id, state: 'open' },
        ]),
      );
      await deliver();
      const late = smtp.received.slice(2);
      expect(late).toHaveLength(1);
      expect(late[0]!.headers.get('x-keywatch-incident')).toBe(grown.id);
      expect(late[0]!.text).toContain('The snooze ended');
    });

    it('routes budget kinds to billing and applies per-environment overrides', async () => {
      const devKey = await addKey(deps, 'dev-laptop', { environment: 'development', last4: 'zz99' });
      await saveRouting(
        deps,
        {
          security_to: [SECURITY_TO],
          billing_to: [BILLING_TO],
          environments: [
            { environment: 'development', min_severity: 'critical', security_to: ['dev@example.com'] },
          ],
        },
        'admin',
      );
      await writer.open({
        kind: 'budget_threshold',
        keyId: null,
        observed: 80,
        expected: 100,
        details: '{"label":"Total budget"}',
      });
      await writer.open(spike(100, { keyId: devKey, severity: 'warning' }));
      await writer.open(spike(100, { keyId: devKey, severity: 'critical' }));
      await deliver();
      expect(smtp.received.map((m) => [m.envelopeTo, m.subject.split(':')[0]])).toEqual([
        [[BILLING_TO], '[Keywatch] WARNING Total budget'],
        [['dev@example.com'], '[Keywatch] CRITICAL dev-laptop (…zz99)'],
      ]);
    });
  });
});
