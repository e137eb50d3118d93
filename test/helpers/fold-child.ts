/**
 * A second Keywatch process for the fold tests, on the database file given in argv:
 * `record FILE N` stores N pushed events with their rollups deferred, as the push worker does, and
 * dies by SIGKILL right after the commit, before any fold; `fold FILE` folds whatever is pending
 * and prints how many events it folded.
 */
import { openStore } from '../../server/db/client.ts';
import { foldAllUsage } from '../../server/usage/fold-usage.ts';
import { recordEvents } from '../../server/usage/record-events.ts';
import { T0 } from './store.ts';
import { foldedUsage } from './usage.ts';

const [mode, file, n] = process.argv.slice(2);
const store = openStore(file!, { migrate: false });
if (mode === 'record') {
  recordEvents({ sqlite: store.sqlite, clock: { now: () => T0 } }, foldedUsage(Number(n)), {
    deferRollups: true,
  });
  process.kill(process.pid, 'SIGKILL');
} else {
  process.stdout.write(String(foldAllUsage(store.sqlite)));
  store.close();
}
