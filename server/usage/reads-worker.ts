/**
 * Entry of the usage API's reads worker (usage-reads.ts, http/task-worker.ts). At the writers'
 * priority, not the backtests': a person waits for the answer, so it must not queue behind every
 * nice-19 backtest or another busy process on the host, yet at nice 10 the serving thread still
 * gets about ten times its share of a core whenever both want one.
 */
import { serveTasks } from '../http/task-worker.ts';
import { BACKGROUND_NICE } from '../http/worker-thread.ts';
import { usageReadTasks } from './usage-reads.ts';

serveTasks(usageReadTasks, BACKGROUND_NICE.writer);
