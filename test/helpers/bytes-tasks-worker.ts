/** A task worker for tests of how answers travel back: it keeps the last bytes it returned. */
import type { Deps } from '../../server/deps.ts';
import { serveTasks } from '../../server/http/task-worker.ts';

let kept: Uint8Array | null = null;

export const bytesTasks = {
  /** A fresh buffer of `size` bytes, or (pooled) a small Buffer, a view into Node's shared pool. */
  bytes(_deps: Deps, input: { size: number; pooled: boolean }): Uint8Array {
    kept = input.pooled ? Buffer.from('x'.repeat(input.size)) : new Uint8Array(input.size).fill(120);
    return kept;
  },
  /** What is left of the last answer on this side: 0 once it was moved to the caller. */
  keptLength(): number {
    return kept?.byteLength ?? -1;
  },
};

serveTasks(bytesTasks);
