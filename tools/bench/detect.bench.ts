/**
 * Detection cost: 1,000 keys of simulated traffic (server/simulate, the eval's profiles and
 * incidents) loaded through the real ingest path, then:
 * - baseline: the bare detector loop (replayChunk over chunks already in memory, no storage, no
 *   incidents), the floor any runner pays;
 * - a first replay of the whole history on the detection worker, with the serving thread's
 *   longest event-loop stall meanwhile (monitorEventLoopDelay);
 * - live minutes on the worker: CPU per tick for 1,000 keys, and the serving thread's stall;
 * - the same live minutes run in the serving thread (what detection cost it before the worker),
 *   after a cold start that reads every stored state back.
 * A 90-day history takes long to build here (17M events); by default a slice of KW_BENCH_DAYS
 * (2) days is replayed and the 90-day replay is extrapolated from it and labelled so.
 * Run: npm run bench detect (KW_BENCH_DAYS=n for another slice).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { DAY, fakeClock, HOUR, MINUTE } from '../../server/clock.ts';
import { loadConfig } from '../../server/config.ts';
import { openStore } from '../../server/db/client.ts';
import { loadAdjustments } from '../../server/detection/adjustments.ts';
import { createAccountState } from '../../server/detection/core/account.ts';
import { createDetectionWorker } from '../../server/detection/detect-worker.ts';
import { loadChunk } from '../../server/detection/load-chunk.ts';
import { ignoreFindings, type ReplayState, replayChunk } from '../../server/detection/replay.ts';
import { loadRuleSets } from '../../server/detection/rules.ts';
import { runDetection } from '../../server/detection/run-detection.ts';
import { silentLogger } from '../../server/log.ts';
import { ingestSimulation } from '../../server/simulate/ingest-simulation.ts';
import { profilesFor } from '../../server/simulate/profiles.ts';
import { recordEvents, type UsageEvent } from '../../server/usage/record-events.ts';

const KEYS = 1000;
const DAYS = Number(process.env.KW_BENCH_DAYS ?? 2);
/** A Thursday noon: the slice covers weekdays, so office-hours and batch keys have history too. */
const END = Date.UTC(2026, 10, 5, 12);
const LIVE = 10;

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const max = (xs: number[]) => Math.max(...xs);
const f = (x: number, digits = 1) => x.toFixed(digits);

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'keywatch-bench-detect-'));
  try {
    const config = loadConfig({
      KEYWATCH_DB: join(dir, 'keywatch.db'),
      KEYWATCH_SECRET: 'bench-secret-that-is-long-enough-0123456789',
      PORT: '0',
      KEYWATCH_LOG_LEVEL: 'silent',
    });
    const store = openStore(config.dbPath);
    const clock = fakeClock(END);
    const deps = { db: store.db, sqlite: store.sqlite, clock, config, log: silentLogger };
    let t = performance.now();
    const sim = ingestSimulation(
      { ...deps, secret: config.secret },
      { seed: 1, days: DAYS, keys: KEYS, end: END, incidents: true },
      'bench',
    );
    console.log(
      `detect: built ${KEYS} keys x ${DAYS} days, ${sim.accepted} events (${f((performance.now() - t) / 1000)} s)`,
    );
    const start = END - DAYS * DAY;
    const replayTo = END - 2 * LIVE * MINUTE;
    const keyMinutes = (from: number, to: number) => (KEYS * (to - from)) / MINUTE;

    // Baseline: the detectors alone over chunks already in memory.
    const rules = loadRuleSets(store.db);
    const chunks = [];
    for (let s = start; s < replayTo; s += 6 * HOUR) {
      const e = Math.min(replayTo, s + 6 * HOUR);
      chunks.push({
        s,
        e,
        chunk: loadChunk(store.sqlite, s, e),
        adjustments: loadAdjustments(store.db, s, e),
      });
    }
    const bare: ReplayState = { keys: new Map(), account: createAccountState(), touched: new Set() };
    let cpu = cpuMs();
    t = performance.now();
    for (const c of chunks)
      replayChunk(c.chunk, c.s, c.e, {
        rules,
        adjustments: c.adjustments,
        sink: ignoreFindings,
        state: bare,
        timeZone: config.timeZone,
      });
    const bareMs = performance.now() - t;
    const bareCpu = cpuMs() - cpu;
    const bareUs = (bareCpu * 1000) / keyMinutes(start, replayTo);
    console.log(
      `detect: baseline bare detector loop      ${f(bareUs, 2)} us CPU/key-minute (${f(bareMs / 1000)} s wall)`,
    );

    // The serving thread's stalls, two ways: the event-loop delay histogram, and the longest gap
    // between beats of a 5 ms interval (what a request arriving then would wait).
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    let last = performance.now();
    let gap = 0;
    const beat = setInterval(() => {
      const now = performance.now();
      gap = Math.max(gap, now - last - 5);
      last = now;
    }, 5);
    const resetStall = () => {
      loop.reset();
      gap = 0;
      last = performance.now();
    };
    const stall = () => `${f(loop.max / 1e6)} ms (event-loop delay max), ${f(gap)} ms (longest beat gap)`;
    // The noise floor: the same thread doing nothing while others load the machine.
    resetStall();
    await new Promise((r) => setTimeout(r, 5000));
    console.log(`detect: serving thread idle for 5 s (noise floor): ${stall()}`);

    // Push ingest on the serving thread meanwhile: one event every 50 ms (stamped after the data,
    // so detection never judges it); its longest write includes any wait for the write lock.
    let pushed = 0;
    let refused = 0;
    let slowestPush = 0;
    const push = setInterval(() => {
      const began = performance.now();
      const event = (): UsageEvent[] => [
        {
          source: 'bench-push',
          eventId: `p${pushed++}`,
          key: { by: 'ref', value: profilesFor(1)[0]!.name },
          ts: END + HOUR,
          credits: 5,
          requests: 1,
          status: 200,
          operation: 'ai-image-generator',
        },
      ];
      try {
        recordEvents(deps, event());
      } catch {
        // SQLITE_BUSY: the write lock was not free within busy_timeout, or its snapshot went stale.
        refused++;
      }
      slowestPush = Math.max(slowestPush, performance.now() - began);
    }, 50);

    // First replay on the worker.
    const worker = createDetectionWorker(deps);
    resetStall();
    cpu = cpuMs();
    t = performance.now();
    const first = await worker.run({ until: replayTo });
    const replayMs = performance.now() - t;
    clearInterval(push);
    const replayCpu = cpuMs() - cpu;
    const replayStall = stall();
    const replayUs = (replayCpu * 1000) / keyMinutes(start, replayTo);
    console.log(
      `detect: first replay on the worker       ${f(replayUs, 2)} us CPU/key-minute (${f(replayUs / bareUs, 2)}x baseline), ` +
        `${f(replayCpu / 1000)} s CPU, ${f(replayMs / 1000)} s wall for ${DAYS} days, ${first.incidents_opened} incidents`,
    );
    console.log(
      `detect: 90-day first replay, ${KEYS} keys  ~${f((replayCpu * (90 / DAYS)) / 60_000)} min of CPU ` +
        `(EXTRAPOLATED from the ${DAYS}-day slice, not measured)`,
    );
    console.log(`detect: serving thread during the replay: ${replayStall}`);
    console.log(
      `detect: push ingest on the serving thread during the replay: ${pushed} writes, ${refused} refused (busy), ` +
        `slowest ${f(slowestPush)} ms`,
    );

    // Live minutes on the worker.
    const tick: number[] = [];
    const tickCpu: number[] = [];
    resetStall();
    for (let m = replayTo + MINUTE; m <= replayTo + LIVE * MINUTE; m += MINUTE) {
      cpu = cpuMs();
      t = performance.now();
      await worker.run({ until: m });
      tick.push(performance.now() - t);
      tickCpu.push(cpuMs() - cpu);
    }
    const liveStall = stall();
    await worker.close();
    const held = store.sqlite
      .prepare("SELECT count(*) AS n FROM detector_state WHERE key_id != ''")
      .get() as { n: number };
    console.log(
      `detect: live minute on the worker, ${held.n} keys with state: CPU median ${f(median(tickCpu))} ms, ` +
        `max ${f(max(tickCpu))} ms (wall median ${f(median(tick))} ms)`,
    );
    console.log(`detect: serving thread during live minutes on the worker: ${liveStall}`);

    // The same live minutes in the serving thread: a cold start reads every state back first.
    t = performance.now();
    runDetection(deps, { until: replayTo + (LIVE + 1) * MINUTE });
    const coldMs = performance.now() - t;
    const inThread: number[] = [];
    for (let m = replayTo + (LIVE + 2) * MINUTE; m <= END; m += MINUTE) {
      t = performance.now();
      runDetection(deps, { until: m });
      inThread.push(performance.now() - t);
    }
    console.log(
      `detect: live minute in the serving thread (it stalls that long): median ${f(median(inThread))} ms, ` +
        `max ${f(max(inThread))} ms; cold start with every state read back ${f(coldMs)} ms`,
    );
    clearInterval(beat);
    loop.disable();
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
