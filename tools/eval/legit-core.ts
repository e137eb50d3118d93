/**
 * A quick look at legitimate change, for development: `npx tsx tools/eval/legit-core.ts 1,2,3`.
 * Simulated clean traffic (changes on, no incidents) straight into the pure detection core, minute
 * by minute, findings grouped into episodes as the incident book does (quiet hour, a burst's
 * aftermath). Skips storage, sources and alerting, so it runs in seconds where `npm run eval` takes
 * minutes; `npm run eval` is the measure, this is the loop.
 */
import { DAY, HOUR, MINUTE } from '../../server/clock.ts';
import { BURST_AFTERMATH_MS } from '../../server/detection/core/episodes.ts';
import { defaultRuleSet } from '../../server/detection/core/params.ts';
import { createKeyState } from '../../server/detection/core/state.ts';
import { stepKey } from '../../server/detection/core/step.ts';
import type { Bucket, KeyContext } from '../../server/detection/core/types.ts';
import { planSimulation, simulateEvents } from '../../server/simulate/simulate.ts';
import { SIM_END } from './simulate-eval.ts';

const seeds = (process.argv[2] ?? '1,2,3').split(',').map(Number);
const DAYS = 35;
const rules = defaultRuleSet();
const ctx: KeyContext = { status: 'active', revokedAt: null, rules, factor: () => 1 };
let total = 0;
for (const seed of seeds) {
  const options = { seed, days: DAYS, keys: 10, end: SIM_END, incidents: false, changes: true };
  const plan = planSimulation(options);
  const names = plan.profiles.map((p) => p.name);
  const minutes = DAYS * 1440;
  const buckets = names.map(() => new Map<number, Bucket>());
  for (const e of simulateEvents(options, plan)) {
    const k = names.indexOf(e.key);
    const ts = Math.floor(e.ts / MINUTE) * MINUTE;
    let b = buckets[k]!.get(ts);
    if (!b) {
      b = { ts, requests: 0, credits: 0, authFailures: 0, ops: [], ips: {}, uas: {} };
      buckets[k]!.set(ts, b);
    }
    b.requests += 1;
    b.credits += e.credits;
    if (e.status === 401) b.authFailures += 1;
    const op = b.ops.find((o) => o.op === e.operation);
    if (op) {
      op.requests += 1;
      op.credits += e.credits;
    } else b.ops.push({ op: e.operation, requests: 1, credits: e.credits });
    b.ips![e.source_ip] = (b.ips![e.source_ip] ?? 0) + 1;
    b.uas![e.user_agent] = (b.uas![e.user_agent] ?? 0) + 1;
  }
  const lines: string[] = [];
  names.forEach((name, k) => {
    const state = createKeyState(MINUTE);
    const episodes: { from: number; last: number; kinds: Set<string> }[] = [];
    for (let i = 0; i < minutes; i++) {
      const ts = plan.start + i * MINUTE;
      const b = buckets[k]!.get(ts) ?? { ts, requests: 0, credits: 0, authFailures: 0, ops: [] };
      for (const f of stepKey(state, b, ctx)) {
        const open = episodes.at(-1);
        const grace = HOUR + (open?.kinds.has('credit_spike') ? BURST_AFTERMATH_MS : 0);
        if (open && ts - open.last <= grace) {
          open.last = ts;
          open.kinds.add(f.kind);
        } else episodes.push({ from: ts, last: ts, kinds: new Set([f.kind]) });
      }
    }
    total += episodes.length;
    const change = plan.changes.find((c) => c.keyIndex === k);
    const day = (t: number) => ((t - plan.start) / DAY).toFixed(1);
    lines.push(
      `  ${name.padEnd(20)} ${String(episodes.length).padStart(2)}  ${change ? `[${change.type} d${day(change.from)}] ` : ''}${episodes.map((e) => `d${day(e.from)} ${[...e.kinds].join('+')}`).join(', ')}`,
    );
  });
  console.log(`seed ${seed}`);
  console.log(lines.join('\n'));
}
console.log(`episodes per key-month: ${(total / ((seeds.length * 10 * DAYS) / 30)).toFixed(2)}`);
