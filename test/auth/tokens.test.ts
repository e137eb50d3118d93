import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { authenticateToken, createApiToken, listApiTokens } from '../../server/auth/tokens.ts';
import { createTestDeps, type TestDeps } from '../helpers/store.ts';

let deps: TestDeps;
beforeEach(() => {
  deps = createTestDeps();
});
afterEach(() => deps.cleanup());

const lastUsed = async () => (await listApiTokens(deps))[0]?.last_used_at;

describe('authenticateToken', () => {
  it('notes the last use at most once a minute', async () => {
    const { token } = await createApiToken(deps, { name: 'push', scopes: ['ingest'], actor: 'test' });
    expect((await authenticateToken(deps, token))?.actor).toBe('token:push');
    const first = await lastUsed();
    expect(first).not.toBeNull();
    deps.clock.advance(30_000);
    await authenticateToken(deps, token);
    expect(await lastUsed()).toBe(first);
    deps.clock.advance(31_000);
    await authenticateToken(deps, token);
    expect(await lastUsed()).not.toBe(first);
  });

  // better-sqlite3 waits for a busy database synchronously: waiting here would freeze the serving
  // thread for as long as another connection (a push worker's batch) holds the write lock.
  it('authenticates without waiting while another connection holds the write lock', async () => {
    const { token } = await createApiToken(deps, { name: 'push', scopes: ['ingest'], actor: 'test' });
    await authenticateToken(deps, token);
    const before = await lastUsed();
    const worker = new Database(deps.dbPath);
    try {
      worker.exec('BEGIN IMMEDIATE');
      deps.clock.advance(120_000);
      // Waiting would end after the 5 s busy timeout in SQLITE_BUSY, and the request in a 500.
      expect((await authenticateToken(deps, token))?.actor).toBe('token:push');
      worker.exec('COMMIT');
      expect(await lastUsed()).toBe(before);
      await authenticateToken(deps, token);
      expect(await lastUsed()).not.toBe(before);
    } finally {
      worker.close();
    }
  });
});
