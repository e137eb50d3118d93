/**
 * Job leadership by advisory lock on a real PostgreSQL: one leader at a time, a hand-over on close,
 * a takeover within the poll interval when the leader is killed (SIGKILL: no goodbye), and a leader
 * whose connection is cut stops leading.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Leadership, MAX_POLL_MS, startLeadership } from '../../server/jobs/leader.ts';
import { type PgCluster, postgresAvailable, startPgCluster } from '../helpers/postgres.ts';

const available = postgresAvailable();
const CHILD = fileURLToPath(new URL('../helpers/leader-child.ts', import.meta.url));
const POLL_MS = 300;
/** Timer slip on a loaded machine (the bound is about polls, not speed): a takeover takes one poll. */
const SLACK_MS = 1_000;

/** Resolves when `check` holds, polling every 20 ms; rejects after `ms`. */
async function until(check: () => boolean, ms: number): Promise<number> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - started;
}

describe.skipIf(!available)('job leadership by advisory lock', { timeout: 60_000 }, () => {
  let cluster: PgCluster;
  beforeAll(async () => {
    cluster = await startPgCluster();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('refuses a poll interval above 20 s', async () => {
    await expect(
      startLeadership({ url: 'postgres://x@127.0.0.1/x', pollMs: MAX_POLL_MS + 1 }),
    ).rejects.toThrow(RangeError);
  });

  it('elects exactly one of two, and hands over when the leader closes', async () => {
    const url = await cluster.createDatabase();
    const changes: string[] = [];
    const a = await startLeadership({ url, pollMs: POLL_MS, onChange: (l) => changes.push(`a:${l}`) });
    const b = await startLeadership({ url, pollMs: POLL_MS, onChange: (l) => changes.push(`b:${l}`) });
    try {
      expect([a.isLeader(), b.isLeader()]).toEqual([true, false]);
      // Polling does not make the follower a second leader.
      await new Promise((r) => setTimeout(r, POLL_MS * 3));
      expect([a.isLeader(), b.isLeader()]).toEqual([true, false]);
      await a.close();
      const waited = await until(() => b.isLeader(), POLL_MS * 10);
      expect(waited).toBeLessThanOrEqual(POLL_MS + SLACK_MS);
      expect(changes).toEqual(['a:true', 'a:false', 'b:true']);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('takes over within the poll interval when the leader process is killed by SIGKILL', async () => {
    const url = await cluster.createDatabase();
    const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', CHILD, url, String(POLL_MS)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    let survivor: Leadership | undefined;
    try {
      await until(() => out.includes('leader\n'), 20_000);
      expect(out).toBe('leader\n');
      survivor = await startLeadership({ url, pollMs: POLL_MS });
      expect(survivor.isLeader()).toBe(false);
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
      const s = survivor;
      const waited = await until(() => s.isLeader(), POLL_MS * 10);
      // The server frees the lock as soon as the dead process's connection closes: the next poll gets it.
      expect(waited).toBeLessThanOrEqual(POLL_MS + SLACK_MS);
    } finally {
      child.kill('SIGKILL');
      await survivor?.close();
    }
  });

  it('stops leading when its connection is cut, and leads again once reconnected', async () => {
    const url = await cluster.createDatabase();
    const changes: boolean[] = [];
    const a = await startLeadership({ url, pollMs: POLL_MS, onChange: (l) => changes.push(l) });
    const admin = new pg.Client(url);
    await admin.connect();
    try {
      expect(a.isLeader()).toBe(true);
      // What a database restart or a network cut does to the session that holds the lock.
      await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND pid <> pg_backend_pid()`,
      );
      await until(() => !a.isLeader(), POLL_MS * 10);
      await until(() => a.isLeader(), POLL_MS * 10);
      expect(changes).toEqual([true, false, true]);
    } finally {
      await admin.end();
      await a.close();
    }
  });
});
