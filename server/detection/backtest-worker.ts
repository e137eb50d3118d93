/**
 * Entry of the backtests' worker thread: a 90-day replay takes seconds of CPU, which on the serving
 * thread would freeze every endpoint and the gateway (see http/task-worker.ts).
 */
import { serveTasks } from '../http/task-worker.ts';
import { backtestTasks } from './backtest.ts';

serveTasks(backtestTasks);
