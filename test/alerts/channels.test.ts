import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeliveryError, postJson } from '../../server/alerts/channels/http.ts';
import { channelTakes } from '../../server/alerts/channels/index.ts';
import { signWebhook } from '../../server/alerts/channels/webhook.ts';
import { smtpMailerFactory } from '../../server/alerts/mailer.ts';
import { defaultRouting, saveRouting } from '../../server/alerts/routing.ts';
import { sendOutbox } from '../../server/alerts/send-outbox.ts';
import { HOUR, MINUTE } from '../../server/clock.ts';
import { createLogger } from '../../server/log.ts';
import { createTestApi } from '../helpers/api.ts';
import { startReceiver, type TestReceiver, verifySignature } from '../helpers/http-receiver.ts';
import { addKey, alertEnv, createWriter, credit_details, outboxRows } from '../helpers/incident-fixtures.ts';
import { startSmtp, type TestSmtp } from '../helpers/smtp.ts';
import { createTestDeps, type TestDeps } from '../helpers/store.ts';

const SECRET = 'whsec-test-0123456789abcdef';
const ROUTING_KEY = 'R0UT1NGKEY0123456789abcdef012345';

let deps: TestDeps;
let smtp: TestSmtp;
let hook: TestReceiver;
let slack: TestReceiver;
let pd: TestReceiver;
let api: ReturnType<typeof createTestApi>;
let mailers: ReturnType<typeof smtpMailerFactory>;
let writer: ReturnType<typeof createWriter>;
let keyId: string;

beforeEach(async () => {
  [smtp, hook, slack, pd] = await Promise.all([
    startSmtp(),
    startReceiver(),
    startReceiver(),
    startReceiver(202),
  ]);
  deps = createTestDeps({
    ...alertEnv(smtp.url),
    ALERT_WEBHOOK_URL: `${hook.url}/hooks/keywatch`,
    ALERT_WEBHOOK_SECRET: SECRET,
    ALERT_SLACK_WEBHOOK_URL: `${slack.url}/services/T000/B000/XXXX`,
    ALERT_PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
    PAGERDUTY_EVENTS_URL: `${pd.url}/v2/enqueue`,
  });
  api = createTestApi(deps);
  mailers = smtpMailerFactory(deps.config.smtpUrl);
  writer = createWriter(deps);
  keyId = await addKey(deps, 'prod-web');
});
afterEach(async () => {
  mailers()?.close();
  deps.cleanup();
  await Promise.all([smtp.close(), hook.close(), slack.close(), pd.close()]);
});

const deliver = () => sendOutbox(deps, mailers, fetch);
const json = (r: { body: string } | undefined) => JSON.parse(r!.body);
const spike = (extra = {}) => {
  const now = deps.clock.now();
  return {
    keyId,
    kind: 'credit_spike',
    severity: 'critical' as const,
    observed: 42_300,
    expected: 1_200,
    score: 0.99,
    impactCredits: 41_100,
    summary: 'prod-web spent 42,300 credits in 2 hours, 35 times its usual rate.',
    details: JSON.stringify(credit_details(now - 2 * HOUR, now)),
    ...extra,
  };
};

describe('alert channels', () => {
  it('delivers one message per channel when an incident opens, and one when it resolves', async () => {
    const incident = await writer.open(spike());
    await deliver();
    expect(smtp.received).toHaveLength(1);
    expect([hook.received.length, slack.received.length, pd.received.length]).toEqual([1, 1, 1]);

    const admin = await api.tokenFor('admin');
    const view = (await api.call('GET', `/api/v1/incidents/${incident.id}`, admin)).json.incident;
    const posted = hook.received[0]!;
    expect(posted.path).toBe('/hooks/keywatch');
    expect(posted.headers['content-type']).toBe('application/json');
    expect(verifySignature(SECRET, posted.headers['keywatch-signature'], posted.body, deps.clock.now())).toBe(
      true,
    );
    expect(
      verifySignature(
        'wrong-secret-0123456789',
        posted.headers['keywatch-signature'],
        posted.body,
        deps.clock.now(),
      ),
    ).toBe(false);
    expect(
      verifySignature(SECRET, posted.headers['keywatch-signature'], `${posted.body} `, deps.clock.now()),
    ).toBe(false);
    expect(posted.headers['keywatch-signature']).toMatch(
      new RegExp(`^t=${Math.floor(deps.clock.now() / 1000)},v1=[0-9a-f]{64}$`),
    );
    expect(json(posted)).toEqual({ event: 'incident.opened', incident: view });

    const link = `https://keywatch.example.com/incidents/${incident.id}`;
    const message = json(slack.received[0]);
    expect(slack.received[0]!.path).toBe('/services/T000/B000/XXXX');
    expect(message.text).toContain('CRITICAL');
    expect(message.text).toContain('prod-web (…a1b2)');
    expect(message.text).toContain('42,300 credits in 2 h, 35x normal');
    expect(message.text).toContain(link);
    const blocks = JSON.stringify(message.blocks);
    expect(message.blocks[0].type).toBe('header');
    for (const part of [
      '*Severity*\\nCRITICAL',
      '*Key*\\nprod-web (…a1b2)',
      '*Impact*\\n42,300 credits',
      link,
    ])
      expect(blocks).toContain(part);

    const trigger = json(pd.received[0]);
    expect(trigger).toMatchObject({
      routing_key: ROUTING_KEY,
      event_action: 'trigger',
      dedup_key: incident.id,
      payload: { severity: 'critical', source: 'prod-web (…a1b2)', class: 'credit_spike' },
      links: [{ href: link }],
    });
    expect(trigger.payload.summary).toContain('42,300 credits');

    deps.clock.advance(HOUR);
    await writer.resolve(incident.id);
    await deliver();
    expect([hook.received.length, slack.received.length, pd.received.length]).toEqual([2, 2, 2]);
    expect(json(hook.received[1]).event).toBe('incident.resolved');
    expect(json(hook.received[1]).incident.state).toBe('resolved');
    expect(json(slack.received[1]).text).toContain('resolved');
    expect(json(pd.received[1])).toEqual({
      routing_key: ROUTING_KEY,
      event_action: 'resolve',
      dedup_key: incident.id,
    });

    const list = await api.call('GET', '/api/v1/alerts/deliveries', admin);
    const channels = list.json.deliveries.map((d: { channel: string }) => d.channel).sort();
    expect(channels).toEqual([
      'email',
      'email',
      'pagerduty',
      'pagerduty',
      'slack',
      'slack',
      'webhook',
      'webhook',
    ]);
    expect(
      list.json.deliveries.every(
        (d: { status: string; incident_id: string }) => d.status === 'sent' && d.incident_id === incident.id,
      ),
    ).toBe(true);
    // Neither the routing key, the webhook secret nor the Slack URL (a credential) is shown.
    const shown = JSON.stringify(list.json);
    for (const secret of [ROUTING_KEY, SECRET, 'XXXX']) expect(shown).not.toContain(secret);
    expect(JSON.stringify(await outboxRows(deps))).not.toContain(ROUTING_KEY);
  });

  it('delivers exactly once per channel when every receiver is down for 10 minutes, then up', async () => {
    const logged: string[] = [];
    deps.log = createLogger('debug', (line) => logged.push(line));
    await writer.open(spike());
    const admin = await api.tokenFor('admin');
    const start = deps.clock.now();
    let sawFailing = false;
    let deliveredAt: number | undefined;
    while (deps.clock.now() - start < 25 * MINUTE) {
      const down = deps.clock.now() - start < 10 * MINUTE;
      hook.mode = down ? 'drop' : 'up';
      slack.mode = down ? 503 : 'up';
      pd.mode = down ? 429 : 'up';
      await deliver();
      if (hook.received.length > 0) deliveredAt ??= deps.clock.now();
      if (down) {
        const status = await api.call('GET', '/api/v1/alerts/deliveries', admin);
        sawFailing ||= status.json.failing;
        const http = status.json.deliveries.filter((d: { channel: string }) => d.channel !== 'email');
        expect(http.map((d: { status: string }) => d.status)).toEqual(['pending', 'pending', 'pending']);
      }
      deps.clock.advance(30_000);
    }
    expect(sawFailing).toBe(true);
    // Failures are logged by row and channel, never with a URL, secret or routing key.
    expect(logged.some((l) => l.includes('slack delivery failed'))).toBe(true);
    for (const secret of [ROUTING_KEY, SECRET, 'XXXX', '127.0.0.1'])
      expect(logged.filter((l) => l.includes(secret))).toEqual([]);
    expect([hook.received.length, slack.received.length, pd.received.length]).toEqual([1, 1, 1]);
    expect(hook.attempts + slack.attempts + pd.attempts).toBeGreaterThan(6);
    const rows = await outboxRows(deps);
    expect(rows).toHaveLength(4);
    const http = rows.filter((r) => r.recipients !== 'oncall@example.com');
    expect(http.map((r) => [r.recipients, r.status, r.attempts > 1])).toEqual([
      ['webhook', 'sent', true],
      ['slack', 'sent', true],
      ['pagerduty', 'sent', true],
    ]);
    const posted = hook.received[0]!;
    // Signed when sent: the retry that got through carries its own time.
    expect(deliveredAt).toBeGreaterThanOrEqual(start + 10 * MINUTE);
    expect(verifySignature(SECRET, posted.headers['keywatch-signature'], posted.body, deliveredAt!)).toBe(
      true,
    );
  });

  it('sends the PagerDuty resolve only after its trigger, even when the trigger had to wait', async () => {
    pd.mode = 503;
    const incident = await writer.open(spike());
    await deliver();
    deps.clock.advance(5 * MINUTE);
    await writer.resolve(incident.id);
    for (let i = 0; i < 10; i++) {
      await deliver();
      deps.clock.advance(MINUTE);
    }
    expect(pd.received).toHaveLength(0);
    pd.mode = 'up';
    for (let i = 0; i < 20; i++) {
      await deliver();
      deps.clock.advance(MINUTE);
    }
    expect(pd.received.map((r) => json(r).event_action)).toEqual(['trigger', 'resolve']);
    expect(pd.received.map((r) => json(r).dedup_key)).toEqual([incident.id, incident.id]);
    expect(hook.received.map((r) => json(r).event)).toEqual(['incident.opened', 'incident.resolved']);
  });

  it('sends one resolution, and no page, for an incident that opened and resolved before anything went out', async () => {
    const incident = await writer.open(spike());
    await writer.resolve(incident.id);
    await deliver();
    expect(hook.received.map((r) => json(r).event)).toEqual(['incident.resolved']);
    expect(slack.received).toHaveLength(1);
    expect(json(slack.received[0]).text).toContain('already resolved');
    expect(pd.received.map((r) => json(r))).toEqual([
      { routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: incident.id },
    ]);
  });

  it('fails a message the endpoint refuses for good (4xx), with the error in deliveries', async () => {
    slack.mode = 404;
    slack.answer = 'no_service';
    await writer.open(spike());
    await deliver();
    deps.clock.advance(HOUR);
    await deliver();
    expect(slack.attempts).toBe(1);
    const list = await api.call('GET', '/api/v1/alerts/deliveries', await api.tokenFor('admin'));
    const row = list.json.deliveries.find((d: { channel: string }) => d.channel === 'slack');
    expect(row).toMatchObject({ status: 'failed', attempts: 1, last_error: 'HTTP 404: no_service', to: [] });
    expect(list.json.failing).toBe(true);
    expect([hook.received.length, pd.received.length]).toEqual([1, 1]);
  });

  it('merges a newer state into each channel’s unsent message, never a second one', async () => {
    hook.mode = 'drop';
    const incident = await writer.open(spike({ severity: 'warning' as const, impactCredits: 10_000 }));
    await writer.update(incident.id, { severity: 'critical', impactCredits: 41_100 });
    expect((await outboxRows(deps)).filter((r) => r.incident_id === incident.id)).toHaveLength(4);
    hook.mode = 'up';
    await deliver();
    expect(json(hook.received[0]).incident).toMatchObject({ severity: 'critical', impact_credits: 41_100 });
    expect(json(pd.received[0]).payload.severity).toBe('critical');
    expect(pd.received).toHaveLength(1);
  });

  it('routes budget incidents to Slack and the webhook but pages only for security kinds', async () => {
    await writer.open({
      ...spike(),
      kind: 'budget_threshold',
      severity: 'warning',
      keyId: null,
      observed: 40_000,
      expected: 50_000,
      details: JSON.stringify({ label: 'production environment budget', unit: 'credits' }),
    });
    await deliver();
    expect([hook.received.length, slack.received.length, pd.received.length]).toEqual([1, 1, 0]);
    expect(json(slack.received[0]).text).toContain(
      'WARNING Budget threshold crossed on production environment budget',
    );
    expect(json(slack.received[0]).text).toContain('80% of 50,000 credits used');
  });

  it('applies routing to every channel: minimum severity and muted environments', async () => {
    await saveRouting(
      deps,
      {
        ...defaultRouting(deps.config),
        min_severity: 'warning',
        environments: [{ environment: 'staging', security_to: [] }],
      },
      'admin',
    );
    await writer.open({ ...spike(), severity: 'info' });
    await writer.open({ ...spike(), keyId: await addKey(deps, 'staging-web', { environment: 'staging' }) });
    await deliver();
    expect([smtp.received.length, hook.received.length, slack.received.length, pd.received.length]).toEqual([
      0, 0, 0, 0,
    ]);
  });
});

describe('channelTakes', () => {
  const routing = { security_to: [], billing_to: [], min_severity: 'info' as const, environments: [] };
  it('lets a Slack-only setup (no addresses) through, and pages for security kinds only', () => {
    const alert = { kind: 'credit_spike', severity: 'warning' as const, environment: null };
    expect(channelTakes('slack', routing, alert)).toBe(true);
    expect(channelTakes('pagerduty', routing, alert)).toBe(true);
    expect(channelTakes('pagerduty', routing, { ...alert, kind: 'budget_forecast' })).toBe(false);
    expect(channelTakes('webhook', routing, { ...alert, kind: 'budget_forecast' })).toBe(true);
  });
});

describe('posting to a channel', () => {
  it('signs t.body with HMAC-SHA256 in hex', () => {
    // echo -n '1700000000.{"a":1}' | openssl dgst -sha256 -hmac secret
    expect(signWebhook('secret', 1_700_000_000, '{"a":1}')).toBe(
      't=1700000000,v1=49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686',
    );
  });

  it('gives up on an endpoint that does not answer in time, as a retry', async () => {
    const server = createServer(() => {});
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slow`;
    try {
      const err = await postJson(fetch, url, '{}', {}, 200).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DeliveryError);
      expect(err).toMatchObject({ retry: true, message: 'network error: no answer in time' });
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
