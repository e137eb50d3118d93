import { sql } from 'drizzle-orm';
/** Shared test setup for alerting: keys, and incidents written through the incident lifecycle. */
import { smtpMailerFactory } from '../../server/alerts/mailer.ts';
import { createAlertListener } from '../../server/alerts/notify.ts';
import type { Tx } from '../../server/db/client.ts';
import { incidents, keys } from '../../server/db/schema/index.ts';
import { execute, rows, transaction } from '../../server/db/transaction.ts';
import type { IncidentListener } from '../../server/incidents/events.ts';
import {
  extendIncident,
  type NewIncident,
  openIncident,
  resolveIncident,
} from '../../server/incidents/lifecycle.ts';
import { startSmtp, type TestSmtp } from './smtp.ts';
import type { TestDeps } from './store.ts';

export const SECURITY_TO = 'oncall@example.com';
export const BILLING_TO = 'billing@example.com';

export const alertEnv = (smtpUrl?: string): Record<string, string> => ({
  ALERT_SECURITY_TO: SECURITY_TO,
  ALERT_BILLING_TO: BILLING_TO,
  ALERT_FROM: 'Keywatch <alerts@keywatch.test>',
  KEYWATCH_PUBLIC_URL: 'https://keywatch.example.com',
  ...(smtpUrl && { SMTP_URL: smtpUrl }),
});

export async function addKey(
  deps: TestDeps,
  name: string,
  extra: Partial<typeof keys.$inferInsert> = {},
): Promise<string> {
  const id = `key_${name.replace(/\W/g, '')}`;
  await deps.db
    .insert(keys)
    .values({ id, name, last4: 'a1b2', environment: 'production', createdAt: 0, updatedAt: 0, ...extra });
  return id;
}

export const credit_details = (from: number, to: number) => ({
  unit: 'credits',
  window: { from: new Date(from).toISOString(), to: new Date(to).toISOString() },
  baseline: { expected: 1200, low: 800, high: 1700, method: 'usual range for this hour of the week' },
  contributors: {
    operations: [
      { name: 'face-swap', credits: 30_000, requests: 250 },
      { name: 'text-to-video', credits: 12_300, requests: 41 },
    ],
    ips: [{ value: '198.51.100.23', requests: 280 }],
    user_agents: [{ value: 'python-requests/2.32', requests: 291 }],
  },
});

/** Plays detection's incident writer: one transaction per change, listener called inside it. */
/** Opens, extends and resolves incidents through the real lifecycle, heard by `listener`. */
export function createWriter(deps: TestDeps, listener: IncidentListener = createAlertListener(deps)) {
  const when = () => ({ at: deps.clock.now(), now: deps.clock.now() });
  const tx = <T>(fn: (tx: Tx) => Promise<T>) => transaction(deps.db, fn);
  return {
    open: (values: Partial<NewIncident>) =>
      tx(async (t) => {
        const now = deps.clock.now();
        const defaults: NewIncident = {
          keyId: null,
          kind: 'credit_spike',
          severity: 'warning',
          startedAt: now - 2 * 3_600_000,
          lastSeenAt: now,
          observed: 0,
          expected: 0,
          score: 0,
          impactCredits: 0,
          summary: 'test incident',
          details: '{}',
        };
        return await openIncident(t, listener, { ...defaults, ...values }, when());
      }),
    update: (id: string, values: Partial<NewIncident>) =>
      tx(async (t) => (await extendIncident(t, listener, id, values, when()))!),
    resolve: (id: string) => tx(async (t) => (await resolveIncident(t, listener, id, when()))!),
  };
}

export const outboxRows = (deps: TestDeps) =>
  rows<{
    id: number;
    recipients: string;
    subject: string;
    text: string;
    status: string;
    incident_id: string | null;
    category: string;
    attempts: number;
    message_id: string;
  }>(deps.db, sql`SELECT * FROM alert_outbox ORDER BY id`);

/** What the sender does with every due message, without SMTP: later changes then make new messages. */
export const markOutboxSent = (deps: TestDeps) =>
  execute(
    deps.db,
    sql`UPDATE alert_outbox SET status = 'sent', attempts = 1, sent_at = ${deps.clock.now()} WHERE status = 'pending'`,
  );

/** What an alert test runs against: an in-process SMTP server, a store that sends to it, its mailer. */
export type AlertStore = { smtp: TestSmtp; deps: TestDeps; mailers: ReturnType<typeof smtpMailerFactory> };

/** Starts an AlertStore on the store `open` gives (forEachStore's), with alertEnv and `env` on top. */
export async function openAlertStore(
  open: (env?: Record<string, string>) => Promise<TestDeps>,
  env: Record<string, string> = {},
): Promise<AlertStore> {
  const smtp = await startSmtp();
  const deps = await open({ ...alertEnv(smtp.url), ...env });
  return { smtp, deps, mailers: smtpMailerFactory(deps.config.smtpUrl) };
}

export async function closeAlertStore(s: AlertStore): Promise<void> {
  s.mailers()?.close();
  s.deps.cleanup();
  await s.smtp.close();
}

/**
 * An open credit spike on `keyId` written straight into the table, with measured amounts that need
 * rounding in a CSV (127.70109894251082 observed, 12.004999 expected, 115.69609894251082 impact).
 */
export async function insertUnroundedIncident(deps: TestDeps, id: string, keyId: string, at: number) {
  await deps.db.insert(incidents).values({
    id,
    keyId,
    kind: 'credit_spike',
    severity: 'warning',
    state: 'open',
    startedAt: at - 3_600_000,
    lastSeenAt: at - 1_800_000,
    observed: 127.70109894251082,
    expected: 12.004999,
    score: 0.9,
    impactCredits: 115.69609894251082,
    summary: 'web spent more than usual',
    details: '{}',
    createdAt: at,
    updatedAt: at,
  });
}
