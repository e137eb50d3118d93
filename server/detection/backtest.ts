/**
 * backtest(): "would this rule have fired, and how often, over the last N days?" Replays stored
 * history through the same code as live detection with the given parameters, in memory: nothing
 * is written. Served on a worker thread (backtest-worker.ts), one at a time per caller.
 */
import { z } from 'zod';
import { DAY, floorTo, MINUTE } from '../clock.ts';
import type { Deps } from '../deps.ts';
import { issuesFromZod, notFound, validationError } from '../errors.ts';
import { iso } from '../timestamps.ts';
import { settleUsage } from '../usage/fold-usage.ts';
import { loadAdjustments } from './adjustments.ts';
import { createAccountState } from './core/account.ts';
import { summarizeEpisode } from './core/episodes.ts';
import { DETECTOR_KINDS, mergeRuleSet } from './core/params.ts';
import { earliestData, loadChunk, loadKeys } from './load-chunk.ts';
import { createCollectingSink, type ReplayState, replayChunk } from './replay.ts';
import { loadRuleSets, ruleParamIssues } from './rules.ts';

export const BacktestSchema = z.strictObject({
  kind: z.enum(DETECTOR_KINDS),
  params: z.record(z.string(), z.number().finite().nonnegative()).optional(),
  days: z.number().int().min(1).max(90).default(30),
  key: z.string().min(1).max(200).optional(),
});

/** History replayed before the scored window so baselines are warm when it starts. */
const LEAD = 28 * DAY;
const CHUNK = 6 * 60 * MINUTE;

export type BacktestInput = z.infer<typeof BacktestSchema>;

/** The request, checked: cheap, so the route refuses bad input at once instead of booting a worker for it. */
export function parseBacktest(body: unknown): BacktestInput {
  const parsed = BacktestSchema.safeParse(body ?? {});
  if (!parsed.success) throw validationError(issuesFromZod(parsed.error.issues));
  // A parameter PUT /rules would refuse is refused here too, so a preview never tests a rule that cannot be saved.
  const paramIssues = ruleParamIssues(parsed.data.kind, parsed.data.params ?? {});
  if (paramIssues.length) throw validationError(paramIssues);
  return parsed.data;
}

/** `input` as parseBacktest() returned it. */
export async function backtest(deps: Deps, input: BacktestInput) {
  // Replays what is stored: pushed batches' minutes included (usage/fold-usage.ts).
  await settleUsage(deps.db);
  const keys = await loadKeys(deps.db);
  const key = input.key ? keys.find((k) => k.id === input.key || k.name === input.key) : undefined;
  if (input.key && !key) throw notFound(`Key "${input.key}"`);
  const until = floorTo(deps.clock.now(), MINUTE);
  const windowFrom = until - input.days * DAY;
  const first = await earliestData(deps.db);
  const rules = await loadRuleSets(deps.db, (set) => {
    const next = mergeRuleSet(set, input.kind, {
      enabled: true,
      ...(input.params && { params: input.params }),
    });
    for (const k of DETECTOR_KINDS) next.enabled[k] = k === input.kind;
    return next;
  });
  const quiet = (keyId: string | null) => rules.forKey(keyId).params.baseline.quiet_minutes * MINUTE;
  const state: ReplayState = { keys: new Map(), account: createAccountState(), touched: new Set() };
  const { sink, found } = createCollectingSink(quiet);
  if (first !== null) {
    const from = Math.max(floorTo(first, MINUTE), windowFrom - LEAD);
    for (let start = from; start < until; start += CHUNK) {
      const end = Math.min(until, start + CHUNK);
      const chunk = await loadChunk(deps.db, start, end, key?.id);
      replayChunk(chunk, start, end, {
        rules,
        adjustments: await loadAdjustments(deps.db, start, end),
        sink,
        state,
        timeZone: deps.config.timeZone,
        ...(key && { onlyKey: key.id }),
      });
    }
  }
  const names = new Map(keys.map((k) => [k.id, k.name]));
  const fired = found()
    .map(({ episode: e, resolvedAt }) => ({ e, s: summarizeEpisode(e), ended: resolvedAt !== null }))
    .filter(({ s }) => s.startedAt >= windowFrom);
  return {
    fired: fired.length,
    incidents: fired.map(({ e, s, ended }) => ({
      key: e.keyId ? (names.get(e.keyId) ?? e.keyId) : null,
      kind: s.kind,
      started_at: iso(s.startedAt),
      // An episode the replay saw end ended when it was last seen.
      ended_at: ended ? iso(s.lastSeenAt) : null,
      observed: s.observed,
      expected: s.expected,
      severity: s.severity,
    })),
  };
}

/**
 * The worker's tasks (http/task-worker.ts): the replay runs there, on its own connection, and so
 * does the answer's JSON: the serving thread passes one string on instead of copying a structure
 * of hundreds of incidents out of the thread and serialising it between gateway requests.
 */
export const backtestTasks = {
  backtestJson: async (deps: Deps, input: BacktestInput) => JSON.stringify(await backtest(deps, input)),
};
