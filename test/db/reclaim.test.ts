/**
 * Migration 0013's task: the pages dropped indexes left free go back to the disk after the
 * migrations, with progress on stderr, and a second start has nothing left to do.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../server/db/client.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('returning free pages after an upgrade', () => {
  it('shrinks the file by the pages a dropped index freed, saying so, once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keywatch-reclaim-'));
    dirs.push(dir);
    const path = join(dir, 'k.db');
    const store = openStore(path, { progress: () => {} });
    // A bucket row (so the task has data to speak of) and an index of a few megabytes, dropped as 0012
    // drops the bucket indexes; the task is queued again as migration 0013 queued it.
    store.sqlite.exec(`INSERT INTO usage_minute (key_id, bucket, operation) VALUES ('k', 0, '')`);
    store.sqlite.exec('CREATE TABLE filler (v TEXT)');
    const put = store.sqlite.prepare('INSERT INTO filler VALUES (?)');
    store.sqlite.transaction(() => {
      for (let i = 0; i < 20_000; i++) put.run(`${i}`.padEnd(200, 'x'));
    })();
    store.sqlite.exec('CREATE INDEX filler_idx ON filler (v)');
    store.sqlite.exec('DROP INDEX filler_idx');
    store.sqlite.exec(`INSERT INTO migration_tasks (name, source) VALUES ('reclaim', 'usage_minute')`);
    store.sqlite.pragma('wal_checkpoint(TRUNCATE)');
    const free = store.sqlite.pragma('freelist_count', { simple: true }) as number;
    expect(free).toBeGreaterThan(500);
    store.close();
    const before = statSync(path).size;

    const said: string[] = [];
    const again = openStore(path, { progress: (l) => said.push(l) });
    try {
      expect(again.sqlite.pragma('freelist_count', { simple: true })).toBe(0);
      expect(statSync(path).size).toBeLessThanOrEqual(before - free * 4096);
      expect(again.sqlite.prepare('SELECT count(*) FROM migration_tasks').pluck().get()).toBe(0);
    } finally {
      again.close();
    }
    expect(said[0]).toMatch(/^returning free pages to the disk: \d+ MB$/);
    expect(said[said.length - 1]).toMatch(/^returning free pages to the disk: \d+ MB in \d+\.\d s$/);
    const third: string[] = [];
    openStore(path, { progress: (l) => third.push(l) }).close();
    expect(third).toEqual([]);
  });
});
