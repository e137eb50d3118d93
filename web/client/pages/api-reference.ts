/** API reference page: nothing of its own beyond the shared page behaviour (time zone toggle). */
import { initPage } from '../lib/common.ts';

initPage();
