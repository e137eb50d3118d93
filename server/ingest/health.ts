/**
 * Source health for the dashboard's freshness badges: per source the last event, the last hour's
 * events and errors, and a status with a sentence of detail.
 */
import { sql } from 'drizzle-orm';
import { HOUR } from '../clock.ts';
import type { Db } from '../db/client.ts';
import { dialectOf, rows } from '../db/transaction.ts';
import type { Deps } from '../deps.ts';
import { isoOrNull } from '../timestamps.ts';
import type { QueueStats } from './gateway/usage-queue.ts';
import { BALANCE_POLL_MS } from './poll/balance.ts';

export const SOURCE_NAMES = ['gateway', 'push', 'webhooks', 'balance', 'csv', 'simulate'] as const;
export type SourceName = (typeof SOURCE_NAMES)[number];
export type SourceStatus = 'ok' | 'stale' | 'error' | 'disabled' | 'never';

export type SourceView = {
  name: SourceName;
  status: SourceStatus;
  last_event_at: string | null;
  events_last_hour: number;
  errors_last_hour: number;
  detail: string;
};

/** Live sources that said nothing for this long are stale; imports and simulations never are. */
const STALE_AFTER = 24 * HOUR;

export type HealthInputs = {
  queue: QueueStats;
  webhookSecretSet: boolean;
  accountKeySet: boolean;
  /** Webhook requests rejected in the last hour (bad signature, stale timestamp, bad body). */
  webhookRejectsLastHour: number;
};

type Counts = { last: number | null; events: number; errors: number };

export async function listSourceHealth(
  deps: Pick<Deps, 'db' | 'clock'>,
  inputs: HealthInputs,
): Promise<SourceView[]> {
  const now = deps.clock.now();
  const since = now - HOUR;
  const fresh = new Map((await sourceFreshness(deps.db, now)).map((f) => [f.source, f]));
  const usage = (source: string): Counts => {
    const f = fresh.get(source);
    return {
      last: f?.last_event_at ?? null,
      events: f?.events_last_hour ?? 0,
      errors: f?.errors_last_hour ?? 0,
    };
  };
  const freshness = (c: Counts, live: boolean): SourceStatus =>
    c.last === null ? 'never' : live && now - c.last > STALE_AFTER ? 'stale' : 'ok';
  const view = (name: SourceName, c: Counts, status: SourceStatus, detail: string): SourceView => ({
    name,
    status,
    last_event_at: isoOrNull(c.last),
    events_last_hour: c.events,
    errors_last_hour: c.errors,
    detail,
  });

  const q = inputs.queue;
  const gw = usage('gateway');
  const gwStatus = q.last_error || q.journal?.error ? 'error' : freshness(gw, true);
  const journal = !q.journal
    ? ''
    : q.journal.error
      ? `; journal failing, so a crash would lose the queue: ${q.journal.error}`
      : `; ${q.journal.pending} journaled on disk until stored`;
  const gwDetail = `Queue ${q.size}/${q.capacity}, ${q.dropped} dropped${journal}${
    q.last_error ? `; storage failing, retrying: ${q.last_error}` : ''
  }.`;
  const push = usage('push');

  const [wh] = await rows<{ last: number | null; n: number | null }>(
    deps.db,
    sql`SELECT max(received_at) AS last, sum(CASE WHEN received_at >= ${since} THEN 1 ELSE 0 END) AS n
      FROM webhook_events`,
  );
  const hooks: Counts = { last: wh?.last ?? null, events: wh?.n ?? 0, errors: inputs.webhookRejectsLastHour };
  const hooksStatus: SourceStatus = !inputs.webhookSecretSet
    ? 'disabled'
    : hooks.errors > 0 && hooks.events === 0
      ? 'error'
      : freshness(hooks, true);
  const hooksDetail = !inputs.webhookSecretSet
    ? 'MAGICHOUR_WEBHOOK_SECRET is not set, so webhooks are refused.'
    : hooks.errors > 0
      ? `${hooks.errors} request(s) rejected in the last hour (signature, timestamp or body).`
      : 'Signed events are verified and deduplicated.';

  const balance = await balanceState(deps, inputs.accountKeySet);
  const csv = usage('csv');
  const sim = usage('simulate');
  return [
    view('gateway', gw, gwStatus, gwDetail),
    view('push', push, freshness(push, true), 'POST /api/v1/usage.'),
    view('webhooks', hooks, hooksStatus, hooksDetail),
    view('balance', balance.counts, balance.status, balance.detail),
    view('csv', csv, freshness(csv, false), 'keywatch import csv.'),
    view('simulate', sim, freshness(sim, false), 'Simulated (demo) traffic.'),
  ];
}

export type BalanceState = {
  status: SourceStatus;
  detail: string;
  counts: Counts;
  latest: { ts: number; balance: number } | null;
};

export async function balanceState(
  deps: Pick<Deps, 'db' | 'clock'>,
  accountKeySet: boolean,
): Promise<BalanceState> {
  const now = deps.clock.now();
  // The newest sample (what poll/balance.ts latestBalance reads, here on either store).
  const [latest = null] = await rows<{ ts: number; balance: number }>(
    deps.db,
    sql`SELECT ts, balance FROM balance_samples ORDER BY ts DESC LIMIT 1`,
  );
  const [count] = await rows<{ n: number }>(
    deps.db,
    sql`SELECT count(*) AS n FROM balance_samples WHERE ts >= ${now - HOUR}`,
  );
  const n = count?.n ?? 0;
  const [state] = await rows<{ status: 'ok' | 'error' | 'disabled'; detail: string }>(
    deps.db,
    sql`SELECT status, detail FROM source_state WHERE name = 'balance'`,
  );
  const counts: Counts = { last: latest?.ts ?? null, events: n, errors: state?.status === 'error' ? 1 : 0 };
  if (!accountKeySet) {
    return {
      status: 'disabled',
      detail: 'MAGICHOUR_ACCOUNT_KEY is not set, so the balance is not polled.',
      counts,
      latest,
    };
  }
  if (!state) return { status: 'never', detail: 'The balance has not been polled yet.', counts, latest };
  if (state.status === 'ok' && latest && now - latest.ts > 3 * BALANCE_POLL_MS) {
    return { status: 'stale', detail: `No balance sample since ${isoOrNull(latest.ts)}.`, counts, latest };
  }
  return { status: state.status, detail: state.detail, counts, latest };
}

export type SourceFreshness = {
  source: string;
  last_event_at: number;
  events_last_hour: number;
  errors_last_hour: number;
};

/**
 * Last event per ingest source: what the server knows without /api/v1/sources. Index-only work, so
 * it stays fast with a year of events: distinct sources by skip-scan over the (source, event_id)
 * key, then each source's newest event by walking the ts index backwards.
 */
export async function sourceFreshness(db: Db, now: number): Promise<SourceFreshness[]> {
  const sources = await rows<{ name: string }>(
    db,
    sql`WITH RECURSIVE s(name) AS (
         SELECT min(source) FROM usage_events
         UNION ALL SELECT (SELECT min(source) FROM usage_events WHERE source > s.name) FROM s WHERE s.name IS NOT NULL
       ) SELECT name FROM s WHERE name IS NOT NULL`,
  );
  // SQLite's planner would pick the (source, event_id) key and sort; PostgreSQL has no hints.
  const byTs = sql.raw(dialectOf(db) === 'sqlite' ? ' INDEXED BY usage_events_ts_idx' : '');
  const out: SourceFreshness[] = [];
  for (const { name: source } of sources) {
    const [last] = await rows<{ ts: number }>(
      db,
      sql`SELECT ts FROM usage_events${byTs} WHERE source = ${source} ORDER BY ts DESC LIMIT 1`,
    );
    const [hour] = await rows<{ n: number; e: number | null }>(
      db,
      sql`SELECT count(*) AS n, sum(CASE WHEN status >= 400 THEN 1 ELSE 0 END) AS e FROM usage_events${byTs}
       WHERE ts >= ${now - HOUR} AND source = ${source}`,
    );
    out.push({
      source,
      last_event_at: last?.ts ?? 0,
      events_last_hour: hour?.n ?? 0,
      errors_last_hour: hour?.e ?? 0,
    });
  }
  return out;
}
