/** The only reader of process.env: validates configuration once, at start-up. */

import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from './config-error.ts';
import { parseStorage, type StorageTarget } from './storage-target.ts';
import { isValidTimeZone } from './time-zone.ts';

/** An entry of KEYWATCH_TRUSTED_PROXIES: an IP, or an IP with a prefix length its family allows. */
function isIpOrCidr(entry: string): boolean {
  const [addr = '', bits, ...rest] = entry.split('/');
  const family = isIP(addr);
  if (family === 0 || rest.length > 0) return false;
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32));
}

const boolFromEnv = z
  .enum(['0', '1', 'true', 'false', 'yes', 'no'])
  .transform((v) => v === '1' || v === 'true' || v === 'yes');

const emailList = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((a) => a.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.email()));

/** An absolute http(s) URL (channel endpoints: no file:, no javascript:). */
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });

export const EnvSchema = z.object({
  KEYWATCH_DB: z.string().min(1).default('./data/keywatch.db'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8787),
  HOST: z.string().min(1).default('127.0.0.1'),
  KEYWATCH_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  KEYWATCH_PUBLIC_URL: z.url().optional(),
  KEYWATCH_DEMO: boolFromEnv.default(true),
  KEYWATCH_ADMIN_EMAIL: z.email().default('admin@keywatch.local'),
  KEYWATCH_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  KEYWATCH_TZ: z.string().min(1).default('UTC'),
  KEYWATCH_CREDIT_PRICE: z.coerce.number().positive().optional(),
  KEYWATCH_TRUSTED_PROXIES: z
    .string()
    .default('')
    .refine(
      (v) => v.split(',').every((entry) => entry.trim() === '' || isIpOrCidr(entry.trim())),
      'must be comma-separated IP addresses or CIDR ranges (10.0.0.0/8)',
    ),
  KEYWATCH_METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  KEYWATCH_GATEWAY_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  KEYWATCH_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  KEYWATCH_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(60_000),
  KEYWATCH_GATEWAY_BODY_IDLE_MS: z.coerce.number().int().min(50).max(600_000).default(10_000),
  KEYWATCH_GATEWAY_MAX_PER_CLIENT: z.coerce.number().int().min(1).max(100_000).default(64),
  KEYWATCH_GATEWAY_UPSTREAM_SOCKETS: z.coerce.number().int().min(2).max(100_000).default(256),
  KEYWATCH_RETENTION_MINUTE_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  KEYWATCH_RETENTION_EVENT_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  KEYWATCH_RETENTION_HOUR_DAYS: z.coerce.number().int().min(1).max(36500).default(730),
  KEYWATCH_RETENTION_PROJECT_DAYS: z.coerce.number().int().min(1).max(3650).default(7),
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'must start with smtp:// or smtps://')
    .optional(),
  ALERT_FROM: z.string().min(3).default('Keywatch <keywatch@localhost>'),
  ALERT_SECURITY_TO: emailList.default([]),
  ALERT_BILLING_TO: emailList.default([]),
  ALERT_REPEAT_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 60)
    .default(60),
  ALERT_LOOKBACK_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(365 * 24)
    .default(24),
  ALERT_WEBHOOK_URL: httpUrl.optional(),
  ALERT_WEBHOOK_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  ALERT_SLACK_WEBHOOK_URL: httpUrl.optional(),
  ALERT_PAGERDUTY_ROUTING_KEY: z.string().trim().min(1).max(100).optional(),
  PAGERDUTY_EVENTS_URL: httpUrl.default('https://events.pagerduty.com/v2/enqueue'),
  MAGICHOUR_BASE_URL: z.url().default('https://api.magichour.ai'),
  MAGICHOUR_WEBHOOK_SECRET: z.string().min(1).optional(),
  MAGICHOUR_ACCOUNT_KEY: z.string().min(1).optional(),
});

export type Config = {
  storage: StorageTarget;
  /** The SQLite file; empty when `storage` is PostgreSQL (the commands that open it refuse first). */
  dbPath: string;
  dataDir: string;
  port: number;
  host: string;
  /** Server secret: keys the HMAC fingerprints of API keys. Never logged. */
  secret: string;
  /** The file the secret was read from or written to; undefined when KEYWATCH_SECRET set it. */
  secretFile?: string | undefined;
  publicUrl: string;
  demo: boolean;
  /** Email of the first admin, created on the first start. */
  adminEmail: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  timeZone: string;
  creditPrice: number | undefined;
  trustedProxies: string[];
  /** Bearer token GET /metrics requires when set; /metrics is open without it. Never logged. */
  metricsToken: string | undefined;
  /** Both HTTP ports, in ms: request headers, and the whole request, must arrive within these. */
  http: { headersTimeoutMs: number; requestTimeoutMs: number };
  gateway: {
    /** A second port that serves the gateway alone (its own origin: no dashboard, no cookies). */
    port: number | undefined;
    /** Longest pause in a request body before the gateway gives up on it (408), in ms. */
    bodyIdleMs: number;
    /** Requests one client address may have in flight at once; more get 429. */
    maxPerClient: number;
    /** Connections to the upstream; maxPerClient stays below it, so one client cannot take them all. */
    upstreamSockets: number;
  };
  /** Days each resolution is kept; daily rollups are kept forever. */
  retentionDays: { minute: number; events: number; hour: number; projects: number };
  smtpUrl: string | undefined;
  alertFrom: string;
  alertSecurityTo: string[];
  alertBillingTo: string[];
  /** An incident is re-notified (escalated) at most once per this many ms. */
  alertRepeatMs: number;
  /** Incidents whose last activity is older than this when judged are recorded without notifying. */
  alertLookbackMs: number;
  /** Alert channels besides email; each is present only when configured. Secrets: never logged. */
  channels: {
    webhook: { url: string; secret: string } | undefined;
    slack: { url: string } | undefined;
    pagerduty: { routingKey: string; eventsUrl: string } | undefined;
  };
  magichour: { baseUrl: string; webhookSecret: string | undefined; accountKey: string | undefined };
};

/** Never echoed in an error message: they are credentials (a Slack webhook URL is one too). */
const SECRET_VARS = new Set([
  'KEYWATCH_SECRET',
  'KEYWATCH_METRICS_TOKEN',
  'SMTP_URL',
  'ALERT_WEBHOOK_SECRET',
  'ALERT_SLACK_WEBHOOK_URL',
  'ALERT_PAGERDUTY_ROUTING_KEY',
  'MAGICHOUR_WEBHOOK_SECRET',
  'MAGICHOUR_ACCOUNT_KEY',
]);

/** Reads and validates the environment. Throws ConfigError with one sentence naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0] ?? 'environment');
    const got = SECRET_VARS.has(name) ? 'a value that is not shown' : JSON.stringify(env[name] ?? '');
    throw new ConfigError(`Invalid ${name}: ${issue.message} (got ${got}).`);
  }
  const e = parsed.data;
  if (!isValidTimeZone(e.KEYWATCH_TZ)) {
    throw new ConfigError(`Invalid KEYWATCH_TZ: unknown time zone ${JSON.stringify(e.KEYWATCH_TZ)}.`);
  }
  checkLimits(e);
  const storage = parseStorage(e.KEYWATCH_DB);
  // Every process sharing one PostgreSQL database must fingerprint keys alike: a secret file on
  // one machine's disk cannot be that shared value.
  if (storage.kind === 'postgres' && !e.KEYWATCH_SECRET) {
    throw new ConfigError(
      'Invalid KEYWATCH_SECRET: required when KEYWATCH_DB is a PostgreSQL URL, since every Keywatch process on that database must use the same one (moving from SQLite: the contents of keywatch.secret beside the old database).',
    );
  }
  const dbPath = storage.kind === 'postgres' ? '' : storage.path;
  const dataDir = storage.kind === 'postgres' || dbPath === ':memory:' ? resolve('./data') : dirname(dbPath);
  return {
    storage,
    dbPath,
    dataDir,
    port: e.PORT,
    host: e.HOST,
    secret: e.KEYWATCH_SECRET ?? loadOrCreateSecret(dataDir),
    secretFile: e.KEYWATCH_SECRET ? undefined : secretFileIn(dataDir),
    publicUrl: (e.KEYWATCH_PUBLIC_URL ?? `http://${displayHost(e.HOST)}:${e.PORT}`).replace(/\/$/, ''),
    demo: e.KEYWATCH_DEMO,
    adminEmail: e.KEYWATCH_ADMIN_EMAIL,
    logLevel: e.KEYWATCH_LOG_LEVEL,
    timeZone: e.KEYWATCH_TZ,
    creditPrice: e.KEYWATCH_CREDIT_PRICE,
    trustedProxies: e.KEYWATCH_TRUSTED_PROXIES.split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    metricsToken: e.KEYWATCH_METRICS_TOKEN,
    http: {
      headersTimeoutMs: e.KEYWATCH_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: e.KEYWATCH_REQUEST_TIMEOUT_MS,
    },
    gateway: {
      port: e.KEYWATCH_GATEWAY_PORT,
      bodyIdleMs: e.KEYWATCH_GATEWAY_BODY_IDLE_MS,
      maxPerClient: e.KEYWATCH_GATEWAY_MAX_PER_CLIENT,
      upstreamSockets: e.KEYWATCH_GATEWAY_UPSTREAM_SOCKETS,
    },
    retentionDays: {
      minute: e.KEYWATCH_RETENTION_MINUTE_DAYS,
      events: e.KEYWATCH_RETENTION_EVENT_DAYS,
      hour: e.KEYWATCH_RETENTION_HOUR_DAYS,
      projects: e.KEYWATCH_RETENTION_PROJECT_DAYS,
    },
    smtpUrl: e.SMTP_URL,
    alertFrom: e.ALERT_FROM,
    alertSecurityTo: e.ALERT_SECURITY_TO,
    alertBillingTo: e.ALERT_BILLING_TO,
    alertRepeatMs: e.ALERT_REPEAT_MINUTES * 60_000,
    alertLookbackMs: e.ALERT_LOOKBACK_HOURS * 3_600_000,
    channels: {
      webhook:
        e.ALERT_WEBHOOK_URL && e.ALERT_WEBHOOK_SECRET
          ? { url: e.ALERT_WEBHOOK_URL, secret: e.ALERT_WEBHOOK_SECRET }
          : undefined,
      slack: e.ALERT_SLACK_WEBHOOK_URL ? { url: e.ALERT_SLACK_WEBHOOK_URL } : undefined,
      pagerduty: e.ALERT_PAGERDUTY_ROUTING_KEY
        ? { routingKey: e.ALERT_PAGERDUTY_ROUTING_KEY, eventsUrl: e.PAGERDUTY_EVENTS_URL }
        : undefined,
    },
    magichour: {
      baseUrl: e.MAGICHOUR_BASE_URL.replace(/\/$/, ''),
      webhookSecret: e.MAGICHOUR_WEBHOOK_SECRET,
      accountKey: e.MAGICHOUR_ACCOUNT_KEY,
    },
  };
}

function checkLimits(e: z.infer<typeof EnvSchema>): void {
  // Unsigned webhooks could be forged by anyone who learns the URL: the secret is not optional.
  if (e.ALERT_WEBHOOK_URL && !e.ALERT_WEBHOOK_SECRET) {
    throw new ConfigError('Invalid ALERT_WEBHOOK_SECRET: required when ALERT_WEBHOOK_URL is set.');
  }
  if (e.ALERT_WEBHOOK_SECRET && !e.ALERT_WEBHOOK_URL) {
    throw new ConfigError('Invalid ALERT_WEBHOOK_URL: required when ALERT_WEBHOOK_SECRET is set.');
  }
  if (e.KEYWATCH_HEADERS_TIMEOUT_MS > e.KEYWATCH_REQUEST_TIMEOUT_MS) {
    throw new ConfigError(
      `Invalid KEYWATCH_HEADERS_TIMEOUT_MS: must not exceed KEYWATCH_REQUEST_TIMEOUT_MS (${e.KEYWATCH_REQUEST_TIMEOUT_MS}), which covers the headers too.`,
    );
  }
  if (e.KEYWATCH_GATEWAY_MAX_PER_CLIENT >= e.KEYWATCH_GATEWAY_UPSTREAM_SOCKETS) {
    throw new ConfigError(
      `Invalid KEYWATCH_GATEWAY_MAX_PER_CLIENT: must be below KEYWATCH_GATEWAY_UPSTREAM_SOCKETS (${e.KEYWATCH_GATEWAY_UPSTREAM_SOCKETS}), so that one client cannot take every upstream connection.`,
    );
  }
  if (
    e.KEYWATCH_GATEWAY_PORT !== undefined &&
    e.KEYWATCH_GATEWAY_PORT !== 0 &&
    e.KEYWATCH_GATEWAY_PORT === e.PORT
  ) {
    throw new ConfigError(`Invalid KEYWATCH_GATEWAY_PORT: must differ from PORT (${e.PORT}).`);
  }
}

function displayHost(host: string): string {
  return host === '0.0.0.0' || host === '::' ? 'localhost' : host;
}

/** The secret is generated once and kept beside the database, readable by the owner only. */
const secretFileIn = (dataDir: string) => join(dataDir, 'keywatch.secret');

function loadOrCreateSecret(dataDir: string): string {
  const file = secretFileIn(dataDir);
  if (existsSync(file)) {
    const secret = readFileSync(file, 'utf8').trim();
    if (secret.length < 32)
      throw new ConfigError(`Invalid secret file ${file}: too short; delete it or set KEYWATCH_SECRET.`);
    return secret;
  }
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return secret;
}
