/**
 * Child-process script for test/serve.test.ts: embeds the server as tools and tests do (no CLI, no
 * signal handler, nothing else keeping the event loop alive), gives work to every thread, stops it,
 * and lets the process end by itself. A close that waits on an idle (unref'd) thread would let Node
 * exit in the middle of the await (exit code 13) before "stopped" is printed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApiToken } from '../../server/auth/tokens.ts';
import { silentLogger } from '../../server/log.ts';
import { startServer } from '../../server/serve.ts';
import { testConfig } from './store.ts';

const dir = mkdtempSync(join(tmpdir(), 'keywatch-embedded-'));
const running = await startServer(testConfig(dir, { KEYWATCH_DEMO: '0' }), silentLogger, {
  announce: () => {},
});
const token = (await createApiToken(running.deps, { name: 'embedded', scopes: ['admin'], actor: 'test' }))
  .token;
const post = (path: string, body: unknown) =>
  fetch(`${running.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  }).then((r) => r.status);
const statuses = [
  await post('/api/v1/usage', {
    events: [{ id: 'e1', key: 'embedded', credits: 3, ts: Date.now() - 120_000 }],
  }),
  await post('/api/v1/detect/run', {}),
  await post('/api/v1/backtest', { kind: 'credit_spike', days: 1 }),
];
await running.stop();
rmSync(dir, { recursive: true, force: true });
process.stdout.write(`stopped ${statuses.join(' ')}\n`);
