import { performance } from 'node:perf_hooks';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../server/db/client.ts';
const cpu0 = process.cpuUsage();
for (let i = 0; i < 5; i++) {
  const p = join(mkdtempSync(join(tmpdir(), 'mig-')), 'e.db');
  const t0 = performance.now(); const c0 = process.cpuUsage();
  const s = openStore(p, {});
  const c = process.cpuUsage(c0);
  console.log('open+migrate', (performance.now() - t0).toFixed(1), 'ms wall', ((c.user + c.system) / 1000).toFixed(1), 'ms cpu');
  s.close();
}
