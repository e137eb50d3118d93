/**
 * The values GET /metrics exposes, read from storage (the SQL lives here, not in the route) and
 * from the in-process instruments the caller hands in.
 */

import { sql } from 'drizzle-orm';
import { currentBudgetPeriod } from '../account/period.ts';
import { listBudgets } from '../budgets/budgets.ts';
import { spendBetween } from '../budgets/spend.ts';
import type { Db } from '../db/client.ts';
import { SEVERITIES } from '../db/schema/index.ts';
import { rows } from '../db/transaction.ts';
import type { Deps } from '../deps.ts';
import type { Family, Histogram } from '../http/metrics.ts';
import { byteOrder } from '../usage/text-order.ts';

/** What serve.ts measures in the process: monitorEventLoopDelay's histogram (nanoseconds). */
export type EventLoopDelay = { percentile(p: number): number; reset(): void };

export type Instruments = {
  gatewayLatency?: Histogram | undefined;
  eventLoop?: EventLoopDelay | undefined;
  residentMemory?: () => number;
};

// All-time totals from the per-key month sums (a dozen rows per key a year), names joined after the sums.
const keyTotalsQuery = (
  db: Db,
) => sql`SELECT k.name AS key, coalesce(k.environment, '') AS environment, t.credits, t.requests
  FROM (SELECT key_id, sum(credits) AS credits, sum(requests) AS requests FROM usage_key_month GROUP BY key_id) t
  JOIN keys k ON k.id = t.key_id ORDER BY k.name${byteOrder(db)}`;
const INCIDENTS_BY_SEVERITY = sql`SELECT severity, count(*) AS n FROM incidents
  WHERE state != 'resolved' GROUP BY severity`;
const outboxBacklogQuery = (db: Db) => sql`SELECT channel, count(*) AS n FROM alert_outbox
  WHERE status = 'pending' GROUP BY channel ORDER BY channel${byteOrder(db)}`;

type KeyTotal = { key: string; environment: string; credits: number; requests: number };

export async function collectMetrics(
  deps: Pick<Deps, 'db' | 'clock' | 'config'>,
  ins: Instruments,
): Promise<Family[]> {
  const keyTotals = await rows<KeyTotal>(deps.db, keyTotalsQuery(deps.db));
  const bySeverity = new Map(
    (await rows<{ severity: string; n: number }>(deps.db, INCIDENTS_BY_SEVERITY)).map((r) => [
      r.severity,
      r.n,
    ]),
  );
  const backlog = await rows<{ channel: string; n: number }>(deps.db, outboxBacklogQuery(deps.db));
  const families: Family[] = [
    {
      name: 'keywatch_key_credits_total',
      help: 'Credits spent per API key since records began (daily rollups).',
      type: 'counter',
      samples: keyTotals.map((r) => ({
        labels: { key: r.key, environment: r.environment },
        value: r.credits,
      })),
    },
    {
      name: 'keywatch_key_requests_total',
      help: 'Requests per API key since records began (daily rollups).',
      type: 'counter',
      samples: keyTotals.map((r) => ({
        labels: { key: r.key, environment: r.environment },
        value: r.requests,
      })),
    },
    {
      name: 'keywatch_open_incidents',
      help: 'Unresolved incidents (open, acknowledged or snoozed) by severity.',
      type: 'gauge',
      samples: SEVERITIES.map((s) => ({ labels: { severity: s }, value: bySeverity.get(s) ?? 0 })),
    },
    {
      name: 'keywatch_budget_used_ratio',
      help: "Share of each budget's monthly credits spent in the current budget period.",
      type: 'gauge',
      samples: await budgetRatios(deps),
    },
    {
      name: 'keywatch_outbox_backlog',
      help: 'Alert messages waiting to be sent, by channel.',
      type: 'gauge',
      samples: backlog.map((r) => ({ labels: { channel: r.channel }, value: r.n })),
    },
  ];
  if (ins.gatewayLatency) {
    families.push({
      name: 'keywatch_gateway_request_duration_seconds',
      help: 'Gateway requests, from arrival until the upstream answer was passed on.',
      type: 'histogram',
      histogram: ins.gatewayLatency.snapshot(),
    });
  }
  if (ins.eventLoop) {
    // p99 since the previous scrape; reset so each scrape sees its own interval.
    const lag = ins.eventLoop.percentile(99) / 1e9;
    ins.eventLoop.reset();
    families.push({
      name: 'keywatch_event_loop_lag_seconds',
      help: 'Event loop delay, 99th percentile since the previous scrape.',
      type: 'gauge',
      samples: [{ value: Number.isFinite(lag) ? lag : 0 }],
    });
  }
  families.push({
    name: 'process_resident_memory_bytes',
    help: 'Resident memory size in bytes.',
    type: 'gauge',
    samples: [{ value: (ins.residentMemory ?? (() => process.memoryUsage.rss()))() }],
  });
  return families;
}

async function budgetRatios(deps: Pick<Deps, 'db' | 'clock' | 'config'>) {
  const period = await currentBudgetPeriod(deps, deps.clock.now());
  const out: { labels: { budget: string }; value: number }[] = [];
  for (const b of (await listBudgets(deps.db)).filter((b) => b.monthlyCredits > 0)) {
    const spent = await spendBetween(deps.db, b, period.start, period.end);
    out.push({ labels: { budget: b.id }, value: spent / b.monthlyCredits });
  }
  return out;
}
