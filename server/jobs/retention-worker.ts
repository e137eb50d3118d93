/**
 * Entry of retention's worker thread: a pass deletes in chunks and returns free pages to the disk,
 * which after an upgrade or a shortened retention is minutes of synchronous SQLite work (3.6 M
 * expired projects took 5.5 minutes on the 1,000-key year) that must not freeze the gateway.
 */
import { serveTasks } from '../http/task-worker.ts';
import { BACKGROUND_NICE } from '../http/worker-thread.ts';
import { retentionTasks } from './retention.ts';

// The writers' priority, not the backtests': each chunk holds the write lock, which the gateway's
// writer and push wait on, so it must not be descheduled while holding it.
serveTasks(retentionTasks, BACKGROUND_NICE.writer);
