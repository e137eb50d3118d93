/**
 * The keys API's large answers, computed on the app's reads worker (web/dashboard-reads-worker.ts),
 * each a stall for every gateway request if it ran on the serving thread: GET /api/v1/keys (every
 * key, mapped and written as JSON, about 11 ms at a thousand keys) and a rotation's view (a busy
 * key's week of clients is read from raw events through the ts index, about 100 ms of CPU on the
 * 1,000-key year: rotation-clients.ts).
 */
import type { Deps } from '../deps.ts';
import { encodeBody } from '../usage/encode-body.ts';
import { listKeys } from './keys.ts';
import { readRotation } from './rotation.ts';

export const keyReadTasks = {
  async keysJson(deps: Deps): Promise<Uint8Array<ArrayBuffer>> {
    return encodeBody([JSON.stringify({ keys: await listKeys(deps) })]);
  },
  async rotationJson(deps: Deps, keyRef: string): Promise<Uint8Array<ArrayBuffer>> {
    return encodeBody([JSON.stringify(await readRotation(deps, keyRef))]);
  },
};
