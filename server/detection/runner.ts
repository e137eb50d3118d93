/**
 * Who runs detection: in this thread (tests, the CLI) or on the detection worker (a running
 * server, see detect-worker.ts). The job and POST /detect/run take either, so both keep one contract.
 */
import type { Deps } from '../deps.ts';
import type { IncidentListener } from '../incidents/events.ts';
import type { RunResult } from './run-detection.ts';

export type RunOptions = { until?: number; maxChunks?: number };

export type DetectionRunner = {
  /** True when runs do not hold the caller's thread (the detection worker). */
  offThread: boolean;
  run(options: RunOptions): Promise<RunResult>;
  /** Lets a run in progress finish and stores what the runner holds. */
  close(): Promise<void>;
};

export function inThreadRunner(deps: Deps, listener?: IncidentListener): DetectionRunner {
  return {
    offThread: false,
    async run(options) {
      // Loaded on the first run: a server runs detection on its worker, and its start would
      // otherwise initialise every detector it never calls here.
      const { runDetection } = await import('./run-detection.ts');
      return await runDetection(deps, { ...options, ...(listener && { listener }) });
    },
    async close() {},
  };
}
