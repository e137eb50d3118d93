/**
 * Balance polling: one sample of the account's credit balance per run. The drop since the last
 * sample that attributed usage (and webhook-unattributed projects) does not explain is
 * unattributed spend. The same answer carries the plan and billing period, stored as the account
 * snapshot. 401/403/404 mean the endpoint is not available to this key: the poller forgets the
 * snapshot and reports itself disabled instead of failing every run.
 */
import { type AccountInfo, clearAccountSnapshot, saveAccountSnapshot } from '../../account/snapshot.ts';
import { floorTo, MINUTE } from '../../clock.ts';
import { statement } from '../../db/statements.ts';
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

export type PollContext = Pick<Deps, 'db' | 'sqlite' | 'clock'> & {
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
  const unattributed = storeSample(ctx, ctx.clock.now(), balance);
  return { status: 'ok', balance, unattributed, account };
}

/** Stores a sample and any unexplained drop since the previous one; returns the unattributed credits. */
/** The newest balance sample, or null before the poller (or a test) stored one. */
export function latestBalance(sqlite: Deps['sqlite']): { ts: number; balance: number } | null {
  return (
    statement<[], { ts: number; balance: number }>(
      sqlite,
      'SELECT ts, balance FROM balance_samples ORDER BY ts DESC LIMIT 1',
    ).get() ?? null
  );
}

export function balanceSamplesSince(sqlite: Deps['sqlite'], from: number): { ts: number; balance: number }[] {
  return statement<[number], { ts: number; balance: number }>(
    sqlite,
    'SELECT ts, balance FROM balance_samples WHERE ts >= ? ORDER BY ts',
  ).all(from);
}

/** Credits the balance lost that no attributed usage explains, since `from`. */
export function unattributedCreditsSince(sqlite: Deps['sqlite'], from: number): number {
  return (
    statement<[number], number>(
      sqlite,
      'SELECT coalesce(sum(credits), 0) FROM unattributed_spend WHERE ts >= ?',
    )
      .pluck()
      .get(from) ?? 0
  );
}

export function storeSample(deps: Pick<Deps, 'sqlite' | 'clock'>, ts: number, balance: number): number {
  const { sqlite } = deps;
  return sqlite
    .transaction(() => {
      const prev = statement<[number], { ts: number; balance: number }>(
        sqlite,
        'SELECT ts, balance FROM balance_samples WHERE ts < ? ORDER BY ts DESC LIMIT 1',
      ).get(ts);
      statement(sqlite, 'INSERT INTO balance_samples (ts, balance) VALUES (?, ?) ON CONFLICT DO NOTHING').run(
        ts,
        balance,
      );
      if (!prev) return 0;
      const drop = prev.balance - balance;
      if (drop <= 0) return 0;
      const attributed = sumCredits(
        sqlite,
        'SELECT coalesce(sum(credits), 0) AS c FROM usage_minute WHERE bucket >= ? AND bucket < ?',
        floorTo(prev.ts, MINUTE),
        floorTo(ts, MINUTE),
      );
      const viaWebhooks = sumCredits(
        sqlite,
        `SELECT coalesce(sum(credits), 0) AS c FROM unattributed_spend WHERE source = 'webhook' AND ts >= ? AND ts < ?`,
        prev.ts,
        ts,
      );
      const unexplained = drop - attributed - viaWebhooks;
      if (unexplained <= Math.max(TOLERANCE_CREDITS, TOLERANCE_SHARE * drop)) return 0;
      statement(
        sqlite,
        `INSERT INTO unattributed_spend (ts, until, source, credits, details, created_at)
           VALUES (?, ?, 'balance', ?, ?, ?)`,
      ).run(
        prev.ts,
        ts,
        unexplained,
        JSON.stringify({ drop, attributed, via_webhooks: viaWebhooks }),
        deps.clock.now(),
      );
      return unexplained;
    })
    .immediate();
}

function sumCredits(sqlite: Deps['sqlite'], sql: string, from: number, to: number): number {
  return (statement<[number, number], { c: number }>(sqlite, sql).get(from, to) ?? { c: 0 }).c;
}

/** Persists the poller's state for the API (and for a second process, such as the CLI). */
export function saveSourceState(
  deps: Pick<Deps, 'sqlite' | 'clock'>,
  name: string,
  status: 'ok' | 'error' | 'disabled',
  detail: string,
): void {
  statement(
    deps.sqlite,
    `INSERT INTO source_state (name, status, detail, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET status = excluded.status, detail = excluded.detail,
         updated_at = excluded.updated_at`,
  ).run(name, status, detail, deps.clock.now());
}
