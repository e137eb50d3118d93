/**
 * How long a detection run's write transactions hold the write lock (on SQLite a database-wide
 * lock: push and the gateway's writer wait that long), and why: on Linux each transaction's time is
 * split into this thread's time on a CPU and its time runnable but waiting for one
 * (/proc/thread-self/schedstat). The detection thread runs at a lowered priority, so on a busy host
 * a transaction of a few ms of work can hold the lock for tens of ms while it waits to be scheduled.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

/** Nanoseconds this thread spent on a CPU and waiting in the run queue; null where unknown. */
export function readThreadSchedule(): { cpuNs: number; waitNs: number } | null {
  if (process.platform !== 'linux') return null;
  try {
    const [cpu, wait] = readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ');
    const out = { cpuNs: Number(cpu), waitNs: Number(wait) };
    return Number.isFinite(out.cpuNs) && Number.isFinite(out.waitNs) ? out : null;
  } catch {
    return null;
  }
}

export type WriteKind = 'cursor' | 'states';

const ms = (x: number) => Math.round(x * 100) / 100;

export function createWriteMeter() {
  const m = {
    n: 0,
    longest: 0,
    total: 0,
    longestCommit: 0,
    longestCursor: 0,
    /** Incident changes the longest cursor transaction wrote. */
    longestCursorChanges: 0,
    /** Of the longest transaction: ms on a CPU and ms runnable but not running (null: unknown). */
    longestCpu: null as number | null,
    longestWait: null as number | null,
    /** All the run's transactions: ms waiting for a CPU while holding the lock. */
    totalWait: 0,
    /**
     * The most CPU one transaction of each kind spent holding the lock: the part of a hold that is
     * this code's own work, whatever else the host runs.
     */
    cpuCursor: 0,
    cpuStates: 0,
  };
  let began = 0;
  let wrote = 0;
  let sched: ReturnType<typeof readThreadSchedule> = null;
  return {
    /** Inside the transaction, first thing (the lock is held from here). */
    began() {
      sched = readThreadSchedule();
      began = performance.now();
    },
    /** Inside the transaction, after its last statement (COMMIT follows). */
    wrote() {
      wrote = performance.now();
    },
    /** After COMMIT. `changes`: the incident changes a cursor transaction wrote. */
    committed(kind: WriteKind, changes = 0): number {
      const end = performance.now();
      const after = sched && readThreadSchedule();
      const held = end - began;
      const wait = sched && after ? (after.waitNs - sched.waitNs) / 1e6 : null;
      const cpu = sched && after ? (after.cpuNs - sched.cpuNs) / 1e6 : null;
      if (cpu !== null && kind === 'cursor') m.cpuCursor = Math.max(m.cpuCursor, cpu);
      if (cpu !== null && kind === 'states') m.cpuStates = Math.max(m.cpuStates, cpu);
      m.longestCommit = Math.max(m.longestCommit, end - wrote);
      if (kind === 'cursor' && held > m.longestCursor) {
        m.longestCursor = held;
        m.longestCursorChanges = changes;
      }
      if (held > m.longest) {
        m.longest = held;
        m.longestCpu = cpu;
        m.longestWait = wait;
      }
      m.n++;
      m.total += held;
      m.totalWait += wait ?? 0;
      return held;
    },
    count: () => m.n,
    total: () => m.total,
    /** The run's debug-log fields. */
    fields(longestSliced: number) {
      return {
        writes: m.n,
        longest_write_ms: ms(m.longest),
        write_ms: Math.round(m.total),
        // What the longest chunk's states held the lock for in all: one transaction used to.
        longest_sliced_ms: Math.round(longestSliced),
        // The transactions that move the cursor (incidents with it), and the longest COMMIT alone.
        longest_cursor_ms: ms(m.longestCursor),
        longest_cursor_changes: m.longestCursorChanges,
        longest_commit_ms: ms(m.longestCommit),
        // Why the longest took that long: working, or runnable and waiting for a CPU.
        ...(m.longestCpu !== null && { longest_write_cpu_ms: ms(m.longestCpu) }),
        ...(m.longestWait !== null && {
          longest_write_wait_ms: ms(m.longestWait),
          lock_wait_ms: ms(m.totalWait),
          most_cpu_cursor_ms: ms(m.cpuCursor),
          most_cpu_states_ms: ms(m.cpuStates),
        }),
      };
    },
  };
}
