/**
 * Entry of the dashboard's reads worker (dashboard-reads.ts, server/http/task-worker.ts). At the writers'
 * priority, as the usage API's reads worker: a person waits for the download or the page, so it must not queue
 * behind nice-19 backtests, yet the serving thread keeps about ten times its share of a core.
 */
import { serveTasks } from '../server/http/task-worker.ts';
import { BACKGROUND_NICE } from '../server/http/worker-thread.ts';
import { dashboardReadTasks } from './dashboard-reads.ts';

serveTasks(dashboardReadTasks, BACKGROUND_NICE.writer);
