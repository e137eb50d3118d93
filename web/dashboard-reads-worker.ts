/**
 * Entry of the reads worker (dashboard-reads.ts, server/http/task-worker.ts): the dashboard's pages
 * and exports and GET /api/v1/usage, at the interactive priority (worker-thread.ts): a person waits
 * for the download or the page, so it must not queue behind the minute's detection or a push batch,
 * yet the serving thread keeps about three times its share of a core.
 */
import { serveTasks } from '../server/http/task-worker.ts';
import { BACKGROUND_NICE } from '../server/http/worker-thread.ts';
import { readTasks } from './dashboard-reads.ts';

// The default 16 MB page cache: it holds the rollups these reads walk again and again (a year of
// 1,000 keys' day sums is 11 MB). With 2 MB every page was re-read from the kernel's file cache,
// a syscall and a copy each: about a third of the reads' CPU (top 7 of a year 40-47 -> 25 ms).
// Paid for in memory by the body buffers no longer made fresh per answer (http/body-pool.ts).
serveTasks(readTasks, BACKGROUND_NICE.interactive, { cacheMb: 16 });
