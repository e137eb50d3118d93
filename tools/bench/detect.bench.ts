/**
 * Detection cost on the scale bench's traffic (tools/bench/scale.bench.ts: the simulator's key
 * profiles, seed 14, no incidents; the first 8 keys at full rate, every other key at a fifth of it)
 * for 1,000 keys, loaded through the real ingest path (recordEvents), then:
 * - baseline, same run: every key-minute of a slice stepped one by one (stepKey on each empty
 *   minute, the replay before fastForward), against the bare replay loop (replayChunk, which
 *   fast-forwards empty minutes) over the same chunks in memory, no storage, no incidents;
 * - the first replay of the whole history on the detection worker (storage, states, incidents),
 *   wall and CPU seconds, with the serving thread's longest event-loop stall meanwhile;
 * - live minutes on the worker: CPU per tick for 1,000 keys, and the serving thread's stall;
 * - beside both, the longest write transaction the worker held (its debug log: a write on the serving
 *   thread would wait about that long, synchronously) and push ingest run as serve runs it (through
 *   its worker, one event every 50 ms), with its latency;
 * - the serving thread's stall is sampled the same way (event-loop delay and 5 ms beats) over an
 *   idle window with the same push load first, the noise floor, and reported as a ratio to it;
 * - the same live minutes run in the serving thread, after a cold start that reads every state back.
 * KW_BENCH_DAYS (default 14: a week judged after the week of warm-up; 90 measures the whole replay but
 * takes long to build, 3M events) days of history; below 90 the 90-day first replay is extrapolated
 * from the measured one and labelled so. KW_BENCH_BASE_DAYS (default 3) days for the baseline.
 * The serving connection is opened as serve opens it, without checkpoints in its own commits, and
 * serve's gateway writer thread runs beside it, checkpointing the WAL every 5 s;
 * KW_BENCH_SERVING_CHECKPOINT=1 gives it SQLite's default auto-checkpoints back, for comparison.
 * KW_BENCH_GATEWAY=1 also runs a gateway on the serving thread (tools/bench/gateway-probe.ts: its
 * own writer thread, a local upstream, 500 req/s from 50 clients in a child process) and reports its
 * p50 during the first replay against the idle window's (issue 11: within 5 ms). Off by default:
 * its CPU would count in the replay's and the idle window's figures.
 * Run: npm run bench detect
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants, monitorEventLoopDelay, PerformanceObserver, performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DAY, fakeClock, HOUR, MINUTE } from '../../server/clock.ts';
import { loadConfig } from '../../server/config.ts';
import { openStore } from '../../server/db/client.ts';
import type { Deps } from '../../server/deps.ts';
import { loadAdjustments } from '../../server/detection/adjustments.ts';
import { createAccountState } from '../../server/detection/core/account.ts';
import { createKeyState, type KeyState } from '../../server/detection/core/state.ts';
import { stepKey } from '../../server/detection/core/step.ts';
import { createDetectionWorker } from '../../server/detection/detect-worker.ts';
import type { Chunk } from '../../server/detection/load-chunk.ts';
import { loadChunk } from '../../server/detection/load-chunk.ts';
import { ignoreFindings, type ReplayState, replayChunk } from '../../server/detection/replay.ts';
import type { RuleSets } from '../../server/detection/rules.ts';
import { loadRuleSets } from '../../server/detection/rules.ts';
import { runDetection } from '../../server/detection/run-detection.ts';
import { createThreadWriter } from '../../server/ingest/gateway/usage-writer.ts';
import { createPushWorker } from '../../server/ingest/push/routes.ts';
import { createKey } from '../../server/keys/keys.ts';
import { silentLogger } from '../../server/log.ts';
import { toUsageEvent } from '../../server/simulate/ingest-simulation.ts';
import { planSimulation, simulateEvents } from '../../server/simulate/simulate.ts';
import { recordEvents, type UsageEvent } from '../../server/usage/record-events.ts';
import { startGatewayProbe } from './gateway-probe.ts';

const KEYS = 1000;
const DAYS = Number(process.env.KW_BENCH_DAYS ?? 14);
const BASE_DAYS = Math.min(DAYS, Number(process.env.KW_BENCH_BASE_DAYS ?? 3));
/** The scale bench's profile: its seed, its busy keys at full rate, the rest at a fifth. */
const SEED = 14;
const BUSY_KEYS = 8;
const QUIET_FACTOR = 0.2;
/** A Thursday noon: the slice covers weekdays, so office-hours and batch keys have history too. */
const END = Date.UTC(2026, 10, 5, 12);
const LIVE = 10;
/** Issue 11: no event-loop stall over this on the serving thread while detection works. */
const STALL_GOAL_MS = 20;
/** The idle window: long enough that its maximum is not one lucky sample. */
const IDLE_MS = 15_000;
/** The push probe's key (a raw key: pushed usage discovers it). */
const PUSH_KEY = 'mh_bench_push_probe_0123456789';
const GATEWAY_PROBE = process.env.KW_BENCH_GATEWAY === '1';
/** How long the gateway probe measures, idle and during the replay (the 14-day replay lasts longer). */
const PROBE_MS = 10_000;

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const quantile = (xs: number[], q: number) =>
  xs.length === 0
    ? Number.NaN
    : [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
const median = (xs: number[]) => quantile(xs, 0.5);
const max = (xs: number[]) => xs.reduce((a, b) => Math.max(a, b), Number.NEGATIVE_INFINITY);
const f = (x: number, digits = 1) => x.toFixed(digits);
/**
 * CPU seconds of this process's threads by scheduling class (Linux /proc; empty elsewhere): the
 * serving thread, the background threads that lower their priority (detection, push), and the
 * rest at normal priority beside the serving thread (V8's GC helpers, libuv's pool).
 */
function cpuByThread(): { serving: number; niced: number; normal: number } {
  const out = { serving: 0, niced: 0, normal: 0 };
  if (process.platform !== 'linux') return out;
  const tick = 100;
  for (const tid of readdirSync('/proc/self/task')) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended meanwhile
    }
    // Fields after the command (which may hold spaces): state is field 3, utime 14, stime 15, nice 19.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const sec = (Number(fields[11]) + Number(fields[12])) / tick;
    if (Number(tid) === process.pid) out.serving += sec;
    else if (Number(fields[16]) > 0) out.niced += sec;
    else out.normal += sec;
  }
  return out;
}
const cpuSince = (a: ReturnType<typeof cpuByThread>) => {
  const b = cpuByThread();
  return `CPU by thread: serving ${f(b.serving - a.serving)} s, niced background ${f(b.niced - a.niced)} s, other threads at normal priority ${f(b.normal - a.normal)} s`;
};
/** A full collection on this thread, without starting node with --expose-gc. */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'keywatch-bench-detect-'));
  try {
    const config = loadConfig({
      KEYWATCH_DB: join(dir, 'keywatch.db'),
      KEYWATCH_SECRET: 'bench-secret-that-is-long-enough-0123456789',
      PORT: '0',
      KEYWATCH_LOG_LEVEL: 'silent',
    });
    const store = openStore(config.dbPath, { checkpoints: process.env.KW_BENCH_SERVING_CHECKPOINT === '1' });
    const clock = fakeClock(END);
    const deps = { db: store.db, sqlite: store.sqlite, clock, config, log: silentLogger };
    let t = performance.now();
    const accepted = await buildScaleTraffic(deps, config.secret);
    console.log(
      `detect: built ${KEYS} keys x ${DAYS} days of the scale bench's traffic, ${accepted} events (${f((performance.now() - t) / 1000)} s)`,
    );
    // Serve's gateway writer thread, idle but for what serve has it do regardless of traffic: a
    // passive WAL checkpoint every 5 s (usage-writer-thread.ts), so the WAL stays bounded as in a
    // running server. Without it nothing here checkpointed, and the push worker's connection copied
    // the build's and the replay's whole WAL back inside its own commits (a push answered in 21 s).
    const gatewayWriter = createThreadWriter(config.storage);
    await gatewayWriter.ready();
    const start = END - DAYS * DAY;
    const replayTo = END - 2 * LIVE * MINUTE;
    const keyMinutes = (from: number, to: number) => (KEYS * (to - from)) / MINUTE;

    // Baseline, same run: a slice of history in memory, stepped minute by minute, then replayed.
    const rules = await loadRuleSets(store.db);
    const chunks = [];
    const baseTo = Math.min(replayTo, start + BASE_DAYS * DAY);
    for (let s = start; s < baseTo; s += 6 * HOUR) {
      const e = Math.min(baseTo, s + 6 * HOUR);
      chunks.push({
        s,
        e,
        chunk: await loadChunk(store.db, s, e),
        adjustments: await loadAdjustments(store.db, s, e),
      });
    }
    let cpu = cpuMs();
    t = performance.now();
    stepEveryMinute(chunks, rules);
    const everyCpu = cpuMs() - cpu;
    const everyUs = (everyCpu * 1000) / keyMinutes(start, baseTo);
    console.log(
      `detect: baseline, every key-minute stepped ${f(everyUs, 2)} us CPU/key-minute (${f((performance.now() - t) / 1000)} s wall for ${BASE_DAYS} days)`,
    );
    let bare: ReplayState | null = { keys: new Map(), account: createAccountState(), touched: new Set() };
    cpu = cpuMs();
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
    const bareUs = (bareCpu * 1000) / keyMinutes(start, baseTo);
    console.log(
      `detect: bare replay loop (fast-forward)  ${f(bareUs, 2)} us CPU/key-minute (${f(everyUs / bareUs, 1)}x faster than the baseline; ${f(bareMs / 1000)} s wall)`,
    );
    chunks.length = 0;
    bare = null;
    // The build and the baseline leave this thread's heap full of garbage (half a million events,
    // a thousand keys' states); a full collection now keeps its pauses out of the windows measured
    // below, where the serving thread of a running server would not have them either.
    collectGarbage();

    // The serving thread's stalls, two ways: the event-loop delay histogram, and the gaps between
    // beats of a 5 ms interval (what a request arriving then would wait), kept whole so the idle
    // window and the replay report the same statistics from the same sampler.
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    let last = performance.now();
    let gaps: number[] = [];
    const beat = setInterval(() => {
      const now = performance.now();
      gaps.push(Math.max(0, now - last - 5));
      last = now;
    }, 5);
    // What the serving thread itself spends: its garbage collections (their pauses), and its
    // event-loop utilisation (the share of the window it was running callbacks, not waiting).
    let gcPauses: { ms: number; kind: number }[] = [];
    const gcSeen = new PerformanceObserver((list) => {
      for (const e of list.getEntries())
        gcPauses.push({
          ms: e.duration,
          kind: (e as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0,
        });
    });
    gcSeen.observe({ entryTypes: ['gc'] });
    let elu = performance.eventLoopUtilization();
    const resetStall = () => {
      loop.reset();
      gaps = [];
      gcPauses = [];
      elu = performance.eventLoopUtilization();
      last = performance.now();
    };
    const busy = () =>
      `busy ${f(100 * performance.eventLoopUtilization(elu).utilization)}% of the window, ` +
      `${gcPauses.length} GC pauses (longest ${f(Math.max(0, ...gcPauses.map((g) => g.ms)))} ms; ` +
      `${gcPauses.filter((g) => g.kind === constants.NODE_PERFORMANCE_GC_MAJOR).length} of them full)`;
    const worst = () => Math.max(loop.max / 1e6, ...gaps);
    const stall = () => {
      const over = gaps.filter((g) => g > STALL_GOAL_MS).length;
      return (
        `${f(loop.max / 1e6)} ms (event-loop delay max), beat gaps over ${gaps.length} beats: ` +
        `p99 ${f(quantile(gaps, 0.99))} ms, p99.9 ${f(quantile(gaps, 0.999))} ms, max ${f(max(gaps))} ms, ${over} over ${STALL_GOAL_MS} ms`
      );
    };
    const verdict = () =>
      `longest stall ${f(worst())} ms, goal <= ${STALL_GOAL_MS} ms: ${worst() <= STALL_GOAL_MS ? 'MET' : 'NOT MET'}`;

    // Push ingest meanwhile, as serve runs it: the serving thread hands each body to the push
    // worker (server/ingest/push/routes.ts) and awaits its answer; the worker's transaction waits
    // for the write lock, the serving thread does not. One event every 50 ms, stamped at the end of
    // the data (a minute detection never judges here). Latency is arrival to answer, what a push
    // client waits. It runs through the idle window too, so the floor is measured with the same load.
    const pushWorker = createPushWorker(deps);
    let pushed = 0;
    let refused = 0;
    let inFlight = 0;
    let pushLatency: number[] = [];
    const encoder = new TextEncoder();
    const push = setInterval(() => {
      if (inFlight > 8) return;
      const began = performance.now();
      const body = encoder.encode(
        JSON.stringify({
          events: [
            { id: `p${pushed++}`, key: PUSH_KEY, credits: 5, requests: 1, operation: 'ai-image-generator' },
          ],
        }),
      ).buffer as ArrayBuffer;
      inFlight++;
      pushWorker
        .run('push', { body }, [body])
        .then(
          () => pushLatency.push(performance.now() - began),
          () => refused++,
        )
        .finally(() => inFlight--);
    }, 50);
    const resetPush = () => {
      pushLatency = [];
      pushed = 0;
      refused = 0;
    };
    const pushSeen = () =>
      `${pushLatency.length} answered, ${refused} failed, latency p50 ${f(quantile(pushLatency, 0.5))} ms, ` +
      `p99 ${f(quantile(pushLatency, 0.99))} ms, max ${f(max(pushLatency))} ms`;

    // The noise floor: the same sampler and the same push load, with detection idle (after the push
    // worker has started and stored its first batch, which discovers the probe's key).
    while (pushLatency.length === 0 && refused === 0) await new Promise((r) => setTimeout(r, 50));
    const probe = GATEWAY_PROBE ? await startGatewayProbe(deps) : null;
    if (probe) await probe.measure(2_000); // warm-up: V8 compiles the proxy's hot path
    await new Promise((r) => setTimeout(r, 2000));
    resetStall();
    resetPush();
    const threadsAtIdle = cpuByThread();
    const [probeIdle] = await Promise.all([
      probe?.measure(PROBE_MS),
      new Promise((r) => setTimeout(r, IDLE_MS)),
    ]);
    const idleWorst = worst();
    console.log(
      `detect: serving thread, detection idle for ${IDLE_MS / 1000} s (noise floor): ${stall()}; ${busy()}; ${cpuSince(threadsAtIdle)}`,
    );
    console.log(`detect: push ingest through its worker, detection idle: ${pushSeen()}`);
    resetPush();

    // First replay on the worker.
    // The worker's own account of its write transactions (run-detection.ts logs one line a run).
    const writes = {
      longest: 0,
      sliced: 0,
      n: 0,
      cursor: 0,
      commit: 0,
      changes: 0,
      cpu: 0,
      wait: 0,
      lockWait: 0,
      cpuCursor: 0,
      cpuStates: 0,
    };
    const log = {
      ...silentLogger,
      debug(msg: string, fields?: Record<string, unknown>) {
        if (msg !== 'detection run' || !fields) return;
        if (Number(fields.longest_write_ms) > writes.longest) {
          writes.cpu = Number(fields.longest_write_cpu_ms ?? Number.NaN);
          writes.wait = Number(fields.longest_write_wait_ms ?? Number.NaN);
        }
        writes.lockWait += Number(fields.lock_wait_ms ?? 0);
        // Absent from a run that wrote nothing, and where the host does not say (not Linux).
        writes.cpuCursor = Math.max(writes.cpuCursor, Number(fields.most_cpu_cursor_ms ?? 0));
        writes.cpuStates = Math.max(writes.cpuStates, Number(fields.most_cpu_states_ms ?? 0));
        writes.longest = Math.max(writes.longest, Number(fields.longest_write_ms));
        writes.sliced = Math.max(writes.sliced, Number(fields.longest_sliced_ms));
        writes.n += Number(fields.writes);
        if (Number(fields.longest_cursor_ms) > writes.cursor)
          writes.changes = Number(fields.longest_cursor_changes ?? 0);
        writes.cursor = Math.max(writes.cursor, Number(fields.longest_cursor_ms));
        writes.commit = Math.max(writes.commit, Number(fields.longest_commit_ms));
      },
    };
    const resetWrites = () => {
      writes.longest = 0;
      writes.sliced = 0;
      writes.n = 0;
      writes.cursor = 0;
      writes.commit = 0;
      writes.changes = 0;
      writes.cpu = 0;
      writes.wait = 0;
      writes.lockWait = 0;
      writes.cpuCursor = 0;
      writes.cpuStates = 0;
    };
    const writesSeen = () =>
      `${writes.n} write transactions, longest held ${f(writes.longest)} ms ` +
      `(of it ${f(writes.cpu)} ms on a CPU, ${f(writes.wait)} ms runnable waiting for one; ` +
      `${f(writes.lockWait)} ms waiting for a CPU with the lock held over all of them; ` +
      `most CPU with the lock held in one transaction: moving the cursor ${f(writes.cpuCursor, 2)} ms, states ${f(writes.cpuStates, 2)} ms) ` +
      `(those moving the cursor with incidents ${f(writes.cursor)} ms, ${writes.changes} incident changes in the longest; the longest COMMIT alone ${f(writes.commit)} ms; ` +
      `a chunk's states in all ${f(writes.sliced)} ms, formerly one transaction)`;
    const worker = createDetectionWorker({ ...deps, log });
    resetStall();
    const threadsAtReplay = cpuByThread();
    cpu = cpuMs();
    t = performance.now();
    const replaying = worker.run({ until: replayTo });
    const probeReplay = await probe?.measure(PROBE_MS);
    const first = await replaying;
    const replayMs = performance.now() - t;
    const replayCpu = cpuMs() - cpu;
    const replayStall = `${stall()}; ${busy()}; ${cpuSince(threadsAtReplay)}`;
    const replayVerdict = verdict();
    const replayWorst = worst();
    const replayUs = (replayCpu * 1000) / keyMinutes(start, replayTo);
    console.log(
      `detect: first replay on the worker       ${f(replayUs, 2)} us CPU/key-minute (${f(everyUs / replayUs, 1)}x faster than the baseline), ` +
        `${f(replayCpu / 1000)} s CPU, ${f(replayMs / 1000)} s wall for ${DAYS} days, ${first.incidents_opened} incidents`,
    );
    const scale = 90 / DAYS;
    const label =
      DAYS === 90 ? 'MEASURED' : `EXTRAPOLATED x${f(scale, 2)} from the measured ${DAYS}-day replay`;
    console.log(
      `detect: 90-day first replay, ${KEYS} keys  ${f((replayMs * scale) / 1000)} s wall, ${f((replayCpu * scale) / 1000)} s CPU (${label}); ` +
        `baseline, every minute stepped: ~${f((everyUs * keyMinutes(0, 90 * DAY)) / 1e6)} s CPU for the detectors alone (extrapolated from ${BASE_DAYS} days)`,
    );
    console.log(
      `detect: serving thread during the replay: ${replayStall}; ${replayVerdict} (${f(replayWorst / idleWorst, 2)}x the idle floor)`,
    );
    console.log(`detect: push ingest through its worker during the replay: ${pushSeen()}`);
    console.log(`detect: the worker during the replay: ${writesSeen()}`);
    if (probeIdle && probeReplay) {
      const added = probeReplay.p50 - probeIdle.p50;
      const within = added <= 5 && probeReplay.failures === 0;
      const whole =
        replayMs >= PROBE_MS ? 'inside the replay' : `the replay ended after ${f(replayMs / 1000)} s`;
      console.log(
        `detect: gateway on the serving thread, 500 req/s: idle p50 ${f(probeIdle.p50, 2)} ms, p99 ${f(probeIdle.p99, 2)} ms; ` +
          `first ${PROBE_MS / 1000} s of the replay (${whole}) p50 ${f(probeReplay.p50, 2)} ms (${added >= 0 ? '+' : ''}${f(added, 2)} ms), ` +
          `p99 ${f(probeReplay.p99, 2)} ms, ${probeReplay.answered} answered, ${probeReplay.failures} failed; ` +
          `goal p50 within 5 ms of idle, no failures: ${within ? 'MET' : 'NOT MET'}`,
      );
    }

    // Live minutes on the worker.
    const tick: number[] = [];
    const tickCpu: number[] = [];
    resetStall();
    resetPush();
    resetWrites();
    const threadsAtLive = cpuByThread();
    for (let m = replayTo + MINUTE; m <= replayTo + LIVE * MINUTE; m += MINUTE) {
      cpu = cpuMs();
      t = performance.now();
      await worker.run({ until: m });
      tick.push(performance.now() - t);
      tickCpu.push(cpuMs() - cpu);
    }
    const liveStall = `${stall()}; ${busy()}; ${cpuSince(threadsAtLive)}`;
    const liveVerdict = verdict();
    clearInterval(push);
    await worker.close();
    await pushWorker.close();
    await gatewayWriter.close();
    const held = store.sqlite
      .prepare("SELECT count(*) AS n FROM detector_state WHERE key_id != ''")
      .get() as { n: number };
    console.log(
      `detect: live minute on the worker, ${held.n} keys with state: CPU median ${f(median(tickCpu))} ms, ` +
        `max ${f(max(tickCpu))} ms (wall median ${f(median(tick))} ms)`,
    );
    console.log(`detect: serving thread during live minutes on the worker: ${liveStall}; ${liveVerdict}`);
    console.log(`detect: push ingest through its worker during live minutes: ${pushSeen()}`);
    console.log(`detect: the worker during live minutes: ${writesSeen()}`);

    // The same live minutes in the serving thread: a cold start reads every state back first.
    t = performance.now();
    await runDetection(deps, { until: replayTo + (LIVE + 1) * MINUTE });
    const coldMs = performance.now() - t;
    const inThread: number[] = [];
    for (let m = replayTo + (LIVE + 2) * MINUTE; m <= END; m += MINUTE) {
      t = performance.now();
      await runDetection(deps, { until: m });
      inThread.push(performance.now() - t);
    }
    console.log(
      `detect: live minute in the serving thread (it stalls that long): median ${f(median(inThread))} ms, ` +
        `max ${f(max(inThread))} ms; cold start with every state read back ${f(coldMs)} ms`,
    );
    clearInterval(beat);
    await probe?.stop();
    gcSeen.disconnect();
    loop.disable();
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The scale bench's raw window (scale.bench.ts build()): its keys, then its events through recordEvents. */
async function buildScaleTraffic(deps: Deps, secret: string): Promise<number> {
  const options = { seed: SEED, days: DAYS, keys: KEYS, end: END, incidents: false };
  const base = planSimulation(options);
  const plan = {
    ...base,
    profiles: base.profiles.map((p, i) =>
      i < BUSY_KEYS ? p : { ...p, peakPerHour: p.peakPerHour * QUIET_FACTOR },
    ),
  };
  for (const k of plan.keys)
    await createKey(
      { ...deps, secret },
      { name: k.name, environment: k.environment, owner: k.owner, created_at: k.created_at },
      'bench',
    );
  let batch: UsageEvent[] = [];
  let accepted = 0;
  for (const e of simulateEvents(options, plan)) {
    batch.push(toUsageEvent(e));
    if (batch.length >= 5_000) {
      accepted += recordEvents(deps, batch).accepted;
      batch = [];
    }
  }
  return accepted + recordEvents(deps, batch).accepted;
}

/**
 * The replay before fastForward, for the baseline: every key with a state steps every minute,
 * an empty bucket where it had no use (adjustments and the account left out: there are none).
 */
function stepEveryMinute(chunks: { s: number; e: number; chunk: Chunk }[], rules: RuleSets): void {
  const states = new Map<string, KeyState>();
  for (const { s, e, chunk } of chunks) {
    for (let t = s; t < e; t += MINUTE) {
      const byKey = chunk.buckets.get(t);
      for (const key of chunk.keys) {
        const bucket = byKey?.get(key.id);
        let ks = states.get(key.id);
        if (!ks && !bucket) continue;
        if (!ks) {
          ks = createKeyState(MINUTE);
          states.set(key.id, ks);
        }
        stepKey(ks, bucket ?? { ts: t, requests: 0, credits: 0, authFailures: 0, ops: [] }, {
          status: key.status,
          revokedAt: key.revokedAt,
          rules: rules.forKey(key.id),
          factor: () => 1,
        });
      }
    }
  }
}

await main();
