/**
 * Two real `keywatch serve` processes on one real PostgreSQL database (API.md, Storage): both serve
 * push and the API, a batch sent to one and resent to the other is stored once, and exactly one
 * runs the jobs — when it is killed with SIGKILL, the other takes over.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../server/auth/tokens.ts';
import { systemClock } from '../server/clock.ts';
import { openPgStore } from '../server/db/pg/client.ts';
import { type PgCluster, postgresAvailable, startPgCluster } from './helpers/postgres.ts';
import { TEST_SECRET } from './helpers/store.ts';

const BIN = fileURLToPath(new URL('../server/keywatch.mjs', import.meta.url));
const available = postgresAvailable();

type Child = { child: ChildProcess; url: string; log: () => string };

describe.skipIf(!available)('several serve processes on one PostgreSQL', { timeout: 120_000 }, () => {
  let cluster: PgCluster;
  let dbUrl: string;
  let token: string;
  const dir = mkdtempSync(join(tmpdir(), 'keywatch-pg-serve-'));
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    cluster = await startPgCluster();
    dbUrl = await cluster.createDatabase();
    // Migrated by the first process to open it; the token is made the way the CLI makes one.
    const store = await openPgStore(dbUrl);
    try {
      ({ token } = await createApiToken(
        { db: store.db, clock: systemClock },
        { name: 'two-processes', scopes: ['ingest', 'read'], actor: 'test' },
      ));
    } finally {
      await store.close();
    }
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function serve(): Promise<Child> {
    const child = spawn(process.execPath, [BIN, 'serve'], {
      cwd: dir,
      env: {
        ...process.env,
        KEYWATCH_DB: dbUrl,
        KEYWATCH_SECRET: TEST_SECRET,
        KEYWATCH_LOG_LEVEL: 'info',
        PORT: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
    });
    child.stderr!.on('data', (d) => {
      out += d;
    });
    return new Promise((resolve, reject) => {
      const check = setInterval(() => {
        const m = /Keywatch is running at (http:\/\/\S+)/.exec(out);
        if (m) {
          clearInterval(check);
          resolve({ child, url: m[1]!, log: () => out });
        }
      }, 20);
      child.once('exit', (code) => {
        clearInterval(check);
        reject(new Error(`keywatch serve exited (${code}): ${out}`));
      });
    });
  }

  const push = async (base: string, events: unknown[]) => {
    const r = await fetch(`${base}/api/v1/usage`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ events }),
    });
    return { status: r.status, body: (await r.json()) as { accepted: number; duplicates: number } };
  };

  const until = async (what: () => boolean, ms: number) => {
    const end = Date.now() + ms;
    while (!what()) {
      if (Date.now() > end) return false;
      await new Promise((r) => setTimeout(r, 100));
    }
    return true;
  };

  it('serve both, store a resent batch once, and hand the jobs over when the leader dies', async () => {
    const a = await serve();
    const b = await serve();
    for (const p of [a, b]) {
      const ready = await fetch(`${p.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(((await ready.json()) as { detail: string }).detail).toMatch(/migrations applied/);
    }

    const ts = new Date(Date.now() - 60_000).toISOString();
    const events = Array.from({ length: 50 }, (_, i) => ({
      id: `two-${i}`,
      key: i % 2 ? 'prod-web' : 'batch-worker',
      ts,
      credits: 10 + i,
      operation: 'face-swap',
    }));
    expect(await push(a.url, events)).toEqual({ status: 200, body: { accepted: 50, duplicates: 0 } });
    expect(await push(b.url, events)).toEqual({ status: 200, body: { accepted: 0, duplicates: 50 } });
    // Both processes list the two keys the batch discovered, from the one database.
    for (const p of [a, b]) {
      const r = await fetch(`${p.url}/api/v1/keys`, { headers: { authorization: `Bearer ${token}` } });
      const names = ((await r.json()) as { keys: { name: string }[] }).keys.map((k) => k.name).sort();
      expect(names).toEqual(['batch-worker', 'prod-web']);
    }

    // Exactly one leads (jobs/leader.ts polls every 15 s at most).
    const leads = (p: Child) => /became the job leader/.test(p.log());
    expect(await until(() => leads(a) || leads(b), 20_000)).toBe(true);
    const [leader, other] = leads(a) ? [a, b] : [b, a];
    expect(leads(other)).toBe(false);
    leader.child.kill('SIGKILL');
    expect(await until(() => leads(other), 40_000)).toBe(true);
    expect((await fetch(`${other.url}/readyz`)).status).toBe(200);
  });
});
