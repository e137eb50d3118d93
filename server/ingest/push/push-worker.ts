/** Entry of the push API's worker thread (see push-tasks.ts and db/task-worker.ts). */
import { serveTasks } from '../../http/task-worker.ts';
import { BACKGROUND_NICE } from '../../http/worker-thread.ts';
import { pushTasks } from './push-tasks.ts';

serveTasks(pushTasks, BACKGROUND_NICE.writer);
