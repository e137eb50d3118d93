import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../server/config.ts';
import { ConfigError } from '../server/config-error.ts';

const dir = mkdtempSync(join(tmpdir(), 'keywatch-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const db = join(dir, 'data', 'kw.db');

describe('loadConfig', () => {
  it('uses documented defaults', () => {
    const c = loadConfig({ KEYWATCH_DB: db });
    expect(c).toMatchObject({
      port: 8787,
      host: '127.0.0.1',
      demo: true,
      timeZone: 'UTC',
      publicUrl: 'http://127.0.0.1:8787',
    });
    expect(c.magichour.baseUrl).toBe('https://api.magichour.ai');
    expect(c.http).toEqual({ headersTimeoutMs: 10_000, requestTimeoutMs: 60_000 });
    expect(c.gateway).toEqual({
      port: undefined,
      bodyIdleMs: 10_000,
      maxPerClient: 64,
      upstreamSockets: 256,
    });
  });

  it('reads the gateway port and limits', () => {
    const c = loadConfig({
      KEYWATCH_DB: db,
      KEYWATCH_GATEWAY_PORT: '8788',
      KEYWATCH_GATEWAY_BODY_IDLE_MS: '2000',
      KEYWATCH_GATEWAY_MAX_PER_CLIENT: '10',
      KEYWATCH_GATEWAY_UPSTREAM_SOCKETS: '50',
      KEYWATCH_HEADERS_TIMEOUT_MS: '3000',
      KEYWATCH_REQUEST_TIMEOUT_MS: '3000',
    });
    expect(c.gateway).toEqual({ port: 8788, bodyIdleMs: 2000, maxPerClient: 10, upstreamSockets: 50 });
    expect(c.http).toEqual({ headersTimeoutMs: 3000, requestTimeoutMs: 3000 });
  });

  it('generates the server secret once, readable by the owner only', () => {
    const a = loadConfig({ KEYWATCH_DB: db });
    const file = join(dir, 'data', 'keywatch.secret');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8').trim()).toBe(a.secret);
    expect(loadConfig({ KEYWATCH_DB: db }).secret).toBe(a.secret);
  });

  it.each([
    [{ PORT: 'eighty' }, /PORT/],
    [{ PORT: '70000' }, /PORT/],
    [{ KEYWATCH_TZ: 'Mars/Olympus' }, /KEYWATCH_TZ/],
    [{ SMTP_URL: 'http://mail' }, /SMTP_URL/],
    [{ ALERT_SECURITY_TO: 'oncall@example.com, not-an-email' }, /ALERT_SECURITY_TO/],
    [{ KEYWATCH_SECRET: 'short' }, /KEYWATCH_SECRET/],
    [{ KEYWATCH_DEMO: 'maybe' }, /KEYWATCH_DEMO/],
    [{ KEYWATCH_TRUSTED_PROXIES: '10.0.0.1, proxy.internal' }, /KEYWATCH_TRUSTED_PROXIES/],
    [{ KEYWATCH_TRUSTED_PROXIES: '10.0.0.0/33' }, /KEYWATCH_TRUSTED_PROXIES/],
    [{ KEYWATCH_GATEWAY_PORT: '-1' }, /KEYWATCH_GATEWAY_PORT/],
    [{ PORT: '9000', KEYWATCH_GATEWAY_PORT: '9000' }, /KEYWATCH_GATEWAY_PORT: must differ from PORT/],
    [{ KEYWATCH_HEADERS_TIMEOUT_MS: '10' }, /KEYWATCH_HEADERS_TIMEOUT_MS/],
    [
      { KEYWATCH_HEADERS_TIMEOUT_MS: '5000', KEYWATCH_REQUEST_TIMEOUT_MS: '4000' },
      /KEYWATCH_HEADERS_TIMEOUT_MS/,
    ],
    [{ KEYWATCH_GATEWAY_BODY_IDLE_MS: 'soon' }, /KEYWATCH_GATEWAY_BODY_IDLE_MS/],
    [{ KEYWATCH_GATEWAY_MAX_PER_CLIENT: '0' }, /KEYWATCH_GATEWAY_MAX_PER_CLIENT/],
    [{ KEYWATCH_GATEWAY_MAX_PER_CLIENT: '256' }, /KEYWATCH_GATEWAY_MAX_PER_CLIENT: must be below/],
    [{ KEYWATCH_GATEWAY_MAX_PER_CLIENT: '8', KEYWATCH_GATEWAY_UPSTREAM_SOCKETS: '8' }, /must be below/],
    [
      { ALERT_WEBHOOK_URL: 'ftp://hooks.example.com/x', ALERT_WEBHOOK_SECRET: 'x'.repeat(32) },
      /ALERT_WEBHOOK_URL/,
    ],
    [{ ALERT_WEBHOOK_URL: 'https://hooks.example.com/x' }, /ALERT_WEBHOOK_SECRET: required/],
    [{ ALERT_WEBHOOK_SECRET: 'x'.repeat(32) }, /ALERT_WEBHOOK_URL: required/],
    [{ ALERT_SLACK_WEBHOOK_URL: 'javascript:alert(1)' }, /ALERT_SLACK_WEBHOOK_URL/],
    [
      { ALERT_PAGERDUTY_ROUTING_KEY: 'k', PAGERDUTY_EVENTS_URL: 'file:///etc/passwd' },
      /PAGERDUTY_EVENTS_URL/,
    ],
  ])('rejects %j with one sentence naming the variable', (env, pattern) => {
    expect(() => loadConfig({ KEYWATCH_DB: db, ...env })).toThrow(ConfigError);
    expect(() => loadConfig({ KEYWATCH_DB: db, ...env })).toThrow(pattern);
  });

  it('reads a postgres:// or postgresql:// URL as PostgreSQL storage, needing a shared secret', () => {
    const url = 'postgres://keywatch:hunter2-secret@db.internal:5432/keywatch';
    const secret = 'x'.repeat(32);
    const c = loadConfig({ KEYWATCH_DB: url, KEYWATCH_SECRET: secret });
    expect(c.storage).toEqual({
      kind: 'postgres',
      url,
      display: 'postgres://keywatch:***@db.internal:5432/keywatch',
    });
    expect(c.dbPath).toBe('');
    expect(
      loadConfig({ KEYWATCH_DB: 'postgresql://kw@10.0.0.5/kw', KEYWATCH_SECRET: secret }).storage.kind,
    ).toBe('postgres');
    expect(loadConfig({ KEYWATCH_DB: db }).storage).toEqual({ kind: 'sqlite', path: resolve(db) });
    // A secret file on one machine cannot be shared by every process on the database.
    expect(() => loadConfig({ KEYWATCH_DB: url })).toThrow(
      /^Invalid KEYWATCH_SECRET: required when KEYWATCH_DB/,
    );
    expect(existsSync(resolve('postgres:'))).toBe(false);
  });

  it.each([
    ['postgres://kw:hunter2-secret@/keywatch', /not a well-formed/],
    ['postgres:///keywatch?password=hunter2-secret', /no host/],
    ['postgres://kw:hunter2-secret@db.internal:5432', /no database/],
    ['postgres://kw:hunter2-secret@db.internal:5432/', /no database/],
    ['postgres://kw:hunter2-secret@db.internal:99999/kw', /not a well-formed|port/],
    ['postgres://kw:hunter2-secret@[::1/kw', /not a well-formed/],
    ['mysql://kw:hunter2-secret@db.internal/kw', /mysql:\/\/ URL is not a storage/],
    ['postgres://kw:hunter2-secret@db.internal/%zz', /no database/],
    ['postgres://kw:hunter2@secret@db.internal:5432', /no database/],
    ['postgres://kw:hunter2/secret@db.internal/kw', /not a well-formed|no host|no database/],
  ])(
    'rejects the database URL %s with one sentence naming KEYWATCH_DB, never its password',
    (url, pattern) => {
      const load = () => loadConfig({ KEYWATCH_DB: url, KEYWATCH_SECRET: 'x'.repeat(32) });
      expect(load).toThrow(ConfigError);
      expect(load).toThrow(/^Invalid KEYWATCH_DB: [^\n]*\.$/);
      expect(load).toThrow(pattern);
      expect(load).not.toThrow(/hunter2/);
    },
  );

  it('reads KEYWATCH_METRICS_TOKEN (16+ characters) without echoing it', () => {
    expect(loadConfig({ KEYWATCH_DB: db }).metricsToken).toBeUndefined();
    expect(loadConfig({ KEYWATCH_DB: db, KEYWATCH_METRICS_TOKEN: 'x'.repeat(16) }).metricsToken).toBe(
      'x'.repeat(16),
    );
    expect(() => loadConfig({ KEYWATCH_DB: db, KEYWATCH_METRICS_TOKEN: 'short-secret' })).toThrow(
      ConfigError,
    );
    expect(() => loadConfig({ KEYWATCH_DB: db, KEYWATCH_METRICS_TOKEN: 'short-secret' })).not.toThrow(
      /short-secret/,
    );
  });

  it('splits recipient lists', () => {
    const c = loadConfig({ KEYWATCH_DB: db, ALERT_BILLING_TO: 'a@example.com, b@example.com' });
    expect(c.alertBillingTo).toEqual(['a@example.com', 'b@example.com']);
  });

  it('reads the alert channels, and never echoes a secret in an error', () => {
    const none = loadConfig({ KEYWATCH_DB: db });
    expect(none.channels).toEqual({ webhook: undefined, slack: undefined, pagerduty: undefined });
    const c = loadConfig({
      KEYWATCH_DB: db,
      ALERT_WEBHOOK_URL: 'https://hooks.example.com/keywatch',
      ALERT_WEBHOOK_SECRET: 'whsec-0123456789abcdef',
      ALERT_SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/X',
      ALERT_PAGERDUTY_ROUTING_KEY: 'R0UTINGKEY',
    });
    expect(c.channels).toEqual({
      webhook: { url: 'https://hooks.example.com/keywatch', secret: 'whsec-0123456789abcdef' },
      slack: { url: 'https://hooks.slack.com/services/T/B/X' },
      pagerduty: { routingKey: 'R0UTINGKEY', eventsUrl: 'https://events.pagerduty.com/v2/enqueue' },
    });
    const bad = () =>
      loadConfig({
        KEYWATCH_DB: db,
        ALERT_WEBHOOK_URL: 'https://h.example.com',
        ALERT_WEBHOOK_SECRET: 'tiny-s3cret',
      });
    expect(bad).toThrow(/ALERT_WEBHOOK_SECRET/);
    expect(bad).not.toThrow(/tiny-s3cret/);
  });
});
