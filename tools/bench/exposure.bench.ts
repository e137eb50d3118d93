/**
 * What the client-exposure signal costs detection, each against a baseline measured in the same run:
 * - the chunk loader's sources query grouped by client origin too (a copy of what load-chunk.ts
 *   runs now) against the same query without it (what it ran before), over one day of gateway-like
 *   events for KEYS keys in a real SQLite file, some of them carrying an origin; and the whole
 *   loadChunk for scale;
 * - the detector loop: stepKey over those buckets with client_exposure enabled against disabled.
 * Run: npm run bench exposure
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fakeClock, MINUTE } from '../../server/clock.ts';
import { loadConfig } from '../../server/config.ts';
import { openStore } from '../../server/db/client.ts';
import { defaultRuleSet } from '../../server/detection/core/params.ts';
import { createKeyState } from '../../server/detection/core/state.ts';
import { stepKey } from '../../server/detection/core/step.ts';
import type { KeyContext } from '../../server/detection/core/types.ts';
import { loadChunk } from '../../server/detection/load-chunk.ts';
import { silentLogger } from '../../server/log.ts';
import { recordEvents, type UsageEvent } from '../../server/usage/record-events.ts';

const KEYS = 100;
const MINUTES = 1440;
const END = Date.UTC(2026, 10, 5, 12);
const FROM = END - MINUTES * MINUTE;
const ROUNDS = 5;
const CHROME =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const time = (fn: () => void) => {
  const t = performance.now();
  fn();
  return performance.now() - t;
};

const dir = mkdtempSync(join(tmpdir(), 'keywatch-bench-exposure-'));
try {
  const config = loadConfig({
    KEYWATCH_DB: join(dir, 'keywatch.db'),
    KEYWATCH_SECRET: 'bench-secret-that-is-long-enough-0123456789',
    PORT: '0',
    KEYWATCH_LOG_LEVEL: 'silent',
  });
  const store = openStore(config.dbPath);
  const deps = { db: store.db, sqlite: store.sqlite, clock: fakeClock(END), config, log: silentLogger };
  // Every tenth key is a web page's (browser agent and origin); the rest are servers on 2 addresses.
  const events: UsageEvent[] = [];
  for (let k = 0; k < KEYS; k++) {
    const web = k % 10 === 0;
    for (let m = 0; m < MINUTES; m++) {
      events.push({
        source: 'gateway',
        eventId: `${k}.${m}`,
        key: { by: 'ref', value: `key-${k}` },
        ts: FROM + m * MINUTE + 7_000,
        credits: 10,
        requests: 1,
        status: 200,
        operation: 'ai-image-generator',
        sourceIp: web ? `${20 + (m % 40)}.${m % 7}.1.${k}` : `203.0.113.${(m % 2) + 10}`,
        userAgent: web ? CHROME : 'magic-hour-node/0.43.1',
        clientOrigin: web ? 'https://shop.example.com' : null,
      });
    }
  }
  for (let i = 0; i < events.length; i += 10_000)
    store.sqlite.transaction(() => recordEvents(deps, events.slice(i, i + 10_000)))();
  console.log(`${events.length.toLocaleString('en-US')} events, ${KEYS} keys, ${MINUTES} minutes`);

  const before = store.sqlite.prepare(
    `SELECT key_id, (ts / ${MINUTE}) * ${MINUTE} AS bucket, source_ip AS ip, user_agent AS ua, sum(requests) AS requests
       FROM usage_events WHERE ts >= @from AND ts < @to
       GROUP BY key_id, bucket, source_ip, user_agent ORDER BY bucket, key_id`,
  );
  const after = store.sqlite.prepare(
    `SELECT key_id, (ts / ${MINUTE}) * ${MINUTE} AS bucket, source_ip AS ip, user_agent AS ua,
         client_origin AS origin, sum(requests) AS requests
       FROM usage_events WHERE ts >= @from AND ts < @to
       GROUP BY key_id, bucket, source_ip, user_agent, client_origin ORDER BY bucket, key_id`,
  );
  const args = { from: FROM, to: END };
  const base: number[] = [];
  const now: number[] = [];
  const whole: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    base.push(time(() => before.all(args)));
    now.push(time(() => after.all(args)));
    const t = performance.now();
    await loadChunk(store.db, FROM, END);
    whole.push(performance.now() - t);
  }
  console.log(
    `chunk sources query (one day): without origin ${median(base).toFixed(0)} ms, with origin ${median(now).toFixed(0)} ms; ratio ${(median(now) / median(base)).toFixed(2)} (whole loadChunk now ${median(whole).toFixed(0)} ms)`,
  );

  const chunk = await loadChunk(store.db, FROM, END);
  const loop = (enabled: boolean) => {
    const rules = defaultRuleSet();
    rules.enabled.client_exposure = enabled;
    const ctx: KeyContext = { status: 'active', revokedAt: null, rules, factor: () => 1 };
    const states = new Map<string, ReturnType<typeof createKeyState>>();
    let found = 0;
    return {
      found: () => found,
      ms: time(() => {
        for (const [, byKey] of [...chunk.buckets.entries()].sort((a, b) => a[0] - b[0])) {
          for (const [key, bucket] of byKey) {
            let s = states.get(key);
            if (!s) {
              s = createKeyState(MINUTE);
              states.set(key, s);
            }
            found += stepKey(s, bucket, ctx).filter((f) => f.kind === 'client_exposure').length;
          }
        }
      }),
    };
  };
  const off: number[] = [];
  const on: number[] = [];
  let findings = 0;
  for (let r = 0; r < ROUNDS; r++) {
    off.push(loop(false).ms);
    const l = loop(true);
    on.push(l.ms);
    findings = l.found();
  }
  const keyMinutes = KEYS * MINUTES;
  console.log(
    `detector loop: disabled ${median(off).toFixed(0)} ms, enabled ${median(on).toFixed(0)} ms (${((median(on) * 1000) / keyMinutes).toFixed(2)} µs per key-minute); ratio ${(median(on) / median(off)).toFixed(2)}; client_exposure findings ${findings} (web keys: ${KEYS / 10})`,
  );
  store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
