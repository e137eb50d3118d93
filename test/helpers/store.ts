/** A real, migrated SQLite file in a temp folder, with a fake clock, for each test. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fakeClock } from '../../server/clock.ts';
import { type Config, loadConfig } from '../../server/config.ts';
import { openStore } from '../../server/db/client.ts';
import type { Deps } from '../../server/deps.ts';
import { silentLogger } from '../../server/log.ts';

export const TEST_SECRET = 'test-server-secret-that-is-long-enough-0123456789';
export const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);

export type TestDeps = Deps & {
  clock: ReturnType<typeof fakeClock>;
  dir: string;
  dbPath: string;
  cleanup(): void;
};

export function testConfig(dir: string, env: Record<string, string> = {}): Config {
  return loadConfig({
    KEYWATCH_DB: join(dir, 'keywatch.db'),
    KEYWATCH_SECRET: TEST_SECRET,
    PORT: '0',
    KEYWATCH_LOG_LEVEL: 'silent',
    ...env,
  });
}

export function createTestDeps(env: Record<string, string> = {}): TestDeps {
  const dir = mkdtempSync(join(tmpdir(), 'keywatch-test-'));
  const config = testConfig(dir, env);
  const store = openStore(config.dbPath);
  const clock = fakeClock(T0);
  return {
    db: store.db,
    sqlite: store.sqlite,
    clock,
    config,
    log: silentLogger,
    dir,
    dbPath: config.dbPath,
    cleanup() {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
