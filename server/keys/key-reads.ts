/**
 * GET /api/v1/keys's answer, computed on the app's reads worker (web/dashboard-reads-worker.ts):
 * every key, mapped and written as JSON, is about 11 ms at a thousand keys, a stall for every
 * gateway request if it ran on the serving thread.
 */
import type { Deps } from '../deps.ts';
import { encodeBody } from '../usage/encode-body.ts';
import { listKeys } from './keys.ts';

export const keyReadTasks = {
  async keysJson(deps: Deps): Promise<Uint8Array<ArrayBuffer>> {
    return encodeBody([JSON.stringify({ keys: await listKeys(deps) })]);
  },
};
