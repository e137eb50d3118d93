/**
 * Balance polling: one sample of the account's credit balance per run. The drop since the last
 * sample that attributed usage (and webhook-unattributed projects) does not explain is
 * unattributed spend. The same answer carries the plan and billing period, stored as the account
 * snapshot. 401/403/404 mean the endpoint is not available to this key: the poller forgets the
 * snapshot and reports itself disabled instead of failing every run.
 */

import { sql } from 'drizzle-orm';
import { type AccountInfo, clearAccountSnapshot, saveAccountSnapshot } from '../../account/snapshot.ts';
import { floorTo, MINUTE } from '../../clock.ts';
import type { Db } from '../../db/client.ts';
import { execute, rows, transaction } from '../../db/transaction.ts';
import type { Deps } from '../../deps.ts';
import type { AccountAdapter } from '../providers/types.ts';

/** How often the account balance is sampled (the poller's job interval). */
export const BALANCE_POLL_MS = 5 * 60_000;
/** Drops smaller than this (credits) or this share of the drop are noise, not a finding. */
const TOLERANCE_CREDITS = 10;
const TOLERANCE_SHARE = 0.02;

export type PollOutcome =
  | { status: 'ok'; balance: number; unattributed: number; account: AccountInfo | null }
  | { status: 'error' | 'disabled'; detail: string };

export type PollContext = Pick<Deps, 'db' | 'clock'> & {
  fetch: typeof fetch;
  baseUrl: string;
  accountKey: string;
  account: AccountAdapter;
  timeoutMs?: number;
};

export async function pollBalance(ctx: PollContext): Promise<PollOutcome> {
  const url = `${ctx.baseUrl}${ctx.account.balancePath}`;
  let res: Response;
  try {
    res = await ctx.fetch(url, {
      headers: { authorization: `Bearer ${ctx.accountKey}`, accept: 'application/json' },
      signal: AbortSignal.timeout(ctx.timeoutMs ?? 15_000),
    });
  } catch (err) {
    return { status: 'error', detail: `GET ${ctx.account.balancePath} failed: ${(err as Error).message}` };
  }
  const text = await res.text().catch(() => '');
  if (res.status === 401 || res.status === 403 || res.status === 404) {
    // Periods fall back to the calendar month at once rather than trust a plan we can no longer read.
    await clearAccountSnapshot(ctx.db);
    return {
      status: 'disabled',
      detail: `GET ${ctx.account.balancePath} answered ${res.status}: ${
        res.status === 404 ? 'the account endpoint is not available' : 'the account key was refused'
      }. Balance polling is off until Keywatch restarts.`,
    };
  }
  if (!res.ok) return { status: 'error', detail: `GET ${ctx.account.balancePath} answered ${res.status}.` };
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = null;
  }
  const balance = ctx.account.parseBalance(body);
  if (balance === null) {
    return { status: 'error', detail: `GET ${ctx.account.balancePath} answered without a credit balance.` };
  }
  const account = ctx.account.parseAccount?.(body) ?? null;
  if (account) await saveAccountSnapshot(ctx.db, account, ctx.clock.now());
  const unattributed = await storeSample(ctx, ctx.clock.now(), balance);
  return { status: 'ok', balance, unattributed, account };
}

/**
 * The newest balance sample, or null before the poller (or a test) stored one.
 * These three readers still take the raw SQLite connection: their callers (ingest/health.ts, the
 * forecast's balance reader, GET /api/v1/balance) read them synchronously.
 */
export async function latestBalance(db: Db): Promise<{ ts: number; balance: number } | null> {
  const [latest] = await rows<{ ts: number; balance: number }>(
    db,
    sql`SELECT ts, balance FROM balance_samples ORDER BY ts DESC LIMIT 1`,
  );
  return latest ?? null;
}

export function balanceSamplesSince(db: Db, from: number): Promise<{ ts: number; balance: number }[]> {
  return rows(db, sql`SELECT ts, balance FROM balance_samples WHERE ts >= ${from} ORDER BY ts`);
}

/** Credits the balance lost that no attributed usage explains, since `from`. */
export async function unattributedCreditsSince(db: Db, from: number): Promise<number> {
  const [row] = await rows<{ n: number | null }>(
    db,
    sql`SELECT sum(credits) AS n FROM unattributed_spend WHERE ts >= ${from}`,
  );
  return row?.n ?? 0;
}

/** Stores a sample and any unexplained drop since the previous one; returns the unattributed credits. */
export async function storeSample(
  deps: Pick<Deps, 'db' | 'clock'>,
  ts: number,
  balance: number,
): Promise<number> {
  return transaction(deps.db, async (tx) => {
    const [prev] = await rows<{ ts: number; balance: number }>(
      tx,
      sql`SELECT ts, balance FROM balance_samples WHERE ts < ${ts} ORDER BY ts DESC LIMIT 1`,
    );
    const stored = await execute(
      tx,
      sql`INSERT INTO balance_samples (ts, balance) VALUES (${ts}, ${balance}) ON CONFLICT DO NOTHING`,
    );
    // A sample of a time already stored (a retried run) was judged then: its drop is not counted twice.
    if (!prev || stored === 0) return 0;
    const drop = prev.balance - balance;
    if (drop <= 0) return 0;
    const attributed = await sumCredits(
      tx,
      // Every key's credits per minute, one row per minute (usage_minute has no bucket index).
      sql`SELECT coalesce(sum(credits), 0) AS c FROM usage_minute_total
        WHERE bucket >= ${floorTo(prev.ts, MINUTE)} AND bucket < ${floorTo(ts, MINUTE)}`,
    );
    const viaWebhooks = await sumCredits(
      tx,
      sql`SELECT coalesce(sum(credits), 0) AS c FROM unattributed_spend
        WHERE source = 'webhook' AND ts >= ${prev.ts} AND ts < ${ts}`,
    );
    const unexplained = drop - attributed - viaWebhooks;
    if (unexplained <= Math.max(TOLERANCE_CREDITS, TOLERANCE_SHARE * drop)) return 0;
    await execute(
      tx,
      sql`INSERT INTO unattributed_spend (ts, until, source, credits, details, created_at)
        VALUES (${prev.ts}, ${ts}, 'balance', ${unexplained},
          ${JSON.stringify({ drop, attributed, via_webhooks: viaWebhooks })}, ${deps.clock.now()})`,
    );
    return unexplained;
  });
}

async function sumCredits(db: Db, query: ReturnType<typeof sql>): Promise<number> {
  return (await rows<{ c: number }>(db, query))[0]?.c ?? 0;
}

/** Persists the poller's state for the API (and for a second process, such as the CLI). */
export async function saveSourceState(
  deps: Pick<Deps, 'db' | 'clock'>,
  name: string,
  status: 'ok' | 'error' | 'disabled',
  detail: string,
): Promise<void> {
  await execute(
    deps.db,
    sql`INSERT INTO source_state (name, status, detail, updated_at) VALUES (${name}, ${status}, ${detail}, ${deps.clock.now()})
       ON CONFLICT (name) DO UPDATE SET status = excluded.status, detail = excluded.detail,
         updated_at = excluded.updated_at`,
  );
}
