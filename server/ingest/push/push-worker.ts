/** Entry of the push API's worker thread (see push-tasks.ts and db/task-worker.ts). */
import { serveTasks } from '../../http/task-worker.ts';
import { BACKGROUND_NICE } from '../../http/worker-thread.ts';
import { foldPendingOf, pushTasks } from './push-tasks.ts';

/**
 * How often the worker folds its batches' rollups in: a second of batches shares each rollup page
 * write (a key's rows of each table once per fold rather than once per batch). At batches of 5,000
 * (about one batch per 250 ms) a 250 ms fold shared almost nothing: 17,500-25,000 events/s against
 * 35,000-38,500 with 1 s (bench ingest, same run, load 3-4); at batches of 100 both did alike. A
 * read meanwhile does not wait for the timer: it has the fold run first (read-barrier.ts).
 */
const FOLD_EVERY_MS = 1_000;

serveTasks(pushTasks, BACKGROUND_NICE.writer, { every: { ms: FOLD_EVERY_MS, run: foldPendingOf } });
