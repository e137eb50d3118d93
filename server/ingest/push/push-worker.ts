/** Entry of the push API's worker thread (see push-tasks.ts and db/task-worker.ts). */
import { serveTasks } from '../../http/task-worker.ts';
import { BACKGROUND_NICE } from '../../http/worker-thread.ts';
import { foldPendingOf, pushTasks } from './push-tasks.ts';

/**
 * How often the worker folds its batches' rollups in: a few hundred ms of batches share each
 * rollup page write (a key's row of each table once per fold rather than once per batch).
 */
const FOLD_EVERY_MS = 250;

serveTasks(pushTasks, BACKGROUND_NICE.writer, { every: { ms: FOLD_EVERY_MS, run: foldPendingOf } });
