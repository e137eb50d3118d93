/**
 * Two real `keywatch serve` processes on one real PostgreSQL database (API.md, Storage): both serve
 * push, the gateway and the API; a batch sent to one and resent to the other is stored once; both
 * answer the same series; detection asked of both at once runs once; and exactly one runs the jobs
 * — when it is killed with SIGKILL, the other takes over; with the database gone, /readyz is 503,
 * push is refused, and what the gateway answered meanwhile is stored once the database is back.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../server/auth/tokens.ts';
import { systemClock } from '../server/clock.ts';
import { openPgStore } from '../server/db/pg/client.ts';
import { type FakeMagicHour, startFakeMagicHour } from './helpers/fake-magichour.ts';
import { type PgCluster, postgresAvailable, startPgCluster } from './helpers/postgres.ts';
import { TEST_SECRET } from './helpers/store.ts';

const BIN = fileURLToPath(new URL('../server/keywatch.mjs', import.meta.url));
const available = postgresAvailable();

type Child = { child: ChildProcess; url: string; log: () => string };

describe.skipIf(!available)('several serve processes on one PostgreSQL', { timeout: 120_000 }, () => {
  let cluster: PgCluster;
  let dbUrl: string;
  let token: string;
  let fake: FakeMagicHour;
  const dir = mkdtempSync(join(tmpdir(), 'keywatch-pg-serve-'));
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    cluster = await startPgCluster();
    dbUrl = await cluster.createDatabase();
    fake = await startFakeMagicHour();
    fake.keys.add('mhk_live_two_processes_0042');
    // Migrated by the first process to open it; the token is made the way the CLI makes one.
    const store = await openPgStore(dbUrl);
    try {
      ({ token } = await createApiToken(
        { db: store.db, clock: systemClock },
        { name: 'two-processes', scopes: ['admin'], actor: 'test' },
      ));
    } finally {
      await store.close();
    }
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await fake?.close();
    await cluster?.stop().catch(() => {});
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
        MAGICHOUR_BASE_URL: fake.url,
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

  const until = async (what: () => boolean, ms: number, poll?: () => Promise<unknown>) => {
    const end = Date.now() + ms;
    for (;;) {
      await poll?.();
      if (what()) return true;
      if (Date.now() > end) return false;
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  const get = async (base: string, path: string) =>
    (await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } })).json();

  it('serve both: usage stored once, same series, one detection, jobs handed over, 503 when the database is lost and nothing answered lost', async () => {
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
      const names = ((await get(p.url, '/api/v1/keys')) as { keys: { name: string }[] }).keys.map(
        (k) => k.name,
      );
      expect(names.sort()).toEqual(['batch-worker', 'prod-web']);
    }
    // A request through b's gateway is recorded by b's writer thread, and a's series see it.
    const proxied = await fetch(`${b.url}/gw/magichour/v1/face-swap`, {
      method: 'POST',
      headers: { authorization: 'Bearer mhk_live_two_processes_0042', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(proxied.status).toBe(200);
    const keyCount = async () => ((await get(a.url, '/api/v1/keys')) as { keys: unknown[] }).keys.length;
    let seen = 0;
    expect(
      await until(
        () => seen === 3,
        20_000,
        async () => (seen = await keyCount()),
      ),
    ).toBe(true);
    const hour = 3_600_000;
    const from = new Date(Math.floor(Date.now() / hour) * hour - 2 * hour).toISOString();
    const to = new Date(Math.floor(Date.now() / hour) * hour + hour).toISOString();
    const series = `/api/v1/usage?step=hour&group=key&from=${from}&to=${to}`;
    expect(await get(a.url, series)).toEqual(await get(b.url, series));
    // Detection asked of both at once judges each minute once: one answers, the other is told it ran
    // concurrently (409) or finds nothing left to judge.
    const runs = await Promise.all(
      [a, b].map((p) =>
        fetch(`${p.url}/api/v1/detect/run`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: '{}',
        }),
      ),
    );
    expect(runs.map((r) => r.status).sort()).toContain(200);
    for (const r of runs) expect([200, 409]).toContain(r.status);

    // Exactly one leads (jobs/leader.ts polls every 15 s at most).
    const leads = (p: Child) => /became the job leader/.test(p.log());
    expect(await until(() => leads(a) || leads(b), 20_000)).toBe(true);
    const [leader, other] = leads(a) ? [a, b] : [b, a];
    expect(leads(other)).toBe(false);
    leader.child.kill('SIGKILL');
    expect(await until(() => leads(other), 40_000)).toBe(true);
    expect((await fetch(`${other.url}/readyz`)).status).toBe(200);

    // The database lost while running: not ready, and a push is refused rather than acknowledged.
    // The gateway still answers its callers (the upstream is up); what it answered waits in its
    // journal and queue, and is stored once the database is back.
    const stored = async () => {
      const client = new pg.Client(dbUrl);
      await client.connect();
      try {
        return (await client.query<{ n: number }>('SELECT count(*)::int AS n FROM usage_events')).rows[0]!.n;
      } finally {
        await client.end();
      }
    };
    const before = await stored();
    await cluster.pause();
    const lost = await fetch(`${other.url}/readyz`);
    expect(lost.status).toBe(503);
    expect(((await lost.json()) as { detail: string }).detail).toMatch(/storage unreachable/);
    const refused = await push(other.url, [{ id: 'after-loss', key: 'prod-web', ts, credits: 1 }]);
    expect(refused.status).toBeGreaterThanOrEqual(500);
    for (let i = 0; i < 5; i++) {
      const answered = await fetch(`${other.url}/gw/magichour/v1/face-swap`, {
        method: 'POST',
        headers: { authorization: 'Bearer mhk_live_two_processes_0042', 'content-type': 'application/json' },
        body: '{}',
      });
      expect(answered.status).toBe(200);
    }
    await cluster.resume();
    let now = before;
    expect(
      await until(
        () => now === before + 5,
        30_000,
        async () => (now = await stored().catch(() => now)),
      ),
    ).toBe(true);
    expect((await fetch(`${other.url}/readyz`)).status).toBe(200);
  });
});
