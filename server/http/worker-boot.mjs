// Entry of every worker thread run from the sources (worker-thread.ts). Worker threads do not
// inherit the main thread's tsx loader, so it is registered here before the TypeScript module loads.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
