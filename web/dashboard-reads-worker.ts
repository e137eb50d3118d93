/**
 * Entry of the reads worker (dashboard-reads.ts, server/http/task-worker.ts): the dashboard's pages and
 * exports and GET /api/v1/usage. At the writers' priority: a person waits for the download or the page, so it must not queue
 * behind nice-19 backtests, yet the serving thread keeps about ten times its share of a core.
 */
import { serveTasks } from '../server/http/task-worker.ts';
import { BACKGROUND_NICE } from '../server/http/worker-thread.ts';
import { readTasks } from './dashboard-reads.ts';

// A small page cache: these reads walk ranges once, and re-reads come from the kernel's file cache.
serveTasks(readTasks, BACKGROUND_NICE.writer, { cacheMb: 2 });
