/**
 * A tiny scheduler: each job runs every `everyMs`, never overlapping itself; a failing run is
 * logged and retried at the next tick. Jobs get their dependencies, never globals.
 */
import type { Logger } from '../log.ts';

export type Job = { name: string; everyMs: number; run(): Promise<void> | void };

export type Scheduler = { stop(): Promise<void>; runNow(name: string): Promise<void> };

/**
 * `isLeader`: whether this process runs the jobs now (several processes on one PostgreSQL database
 * elect one, jobs/leader.ts); a tick while it does not is skipped, and the next tick after it
 * became the leader runs as usual.
 */
export function startScheduler(
  jobs: readonly Job[],
  log: Logger,
  options: { isLeader?: () => boolean } = {},
): Scheduler {
  const isLeader = options.isLeader ?? (() => true);
  const running = new Map<string, Promise<void>>();
  const timers: NodeJS.Timeout[] = [];
  let stopped = false;

  const tick = (job: Job): Promise<void> => {
    const current = running.get(job.name);
    if (current || stopped) return current ?? Promise.resolve();
    const started = Date.now();
    const p = (async () => {
      try {
        await job.run();
        log.debug('job done', { job: job.name, ms: Date.now() - started });
      } catch (err) {
        log.error('job failed', { job: job.name, error: String((err as Error)?.stack ?? err) });
      } finally {
        running.delete(job.name);
      }
    })();
    running.set(job.name, p);
    return p;
  };

  for (const job of jobs) {
    const timer = setInterval(() => {
      if (isLeader()) void tick(job);
    }, job.everyMs);
    timer.unref();
    timers.push(timer);
  }

  return {
    async stop() {
      stopped = true;
      for (const t of timers) clearInterval(t);
      await Promise.all(running.values());
    },
    runNow(name) {
      const job = jobs.find((j) => j.name === name);
      if (!job) throw new Error(`No job named ${name}`);
      return tick(job);
    },
  };
}
