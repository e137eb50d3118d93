/**
 * Zero loss across kill -9: a real `keywatch serve` child proxies traffic to a local fake Magic
 * Hour from its first moment, is killed with SIGKILL mid-traffic, and restarted on the same
 * database. Every request whose answer reached the client has its usage stored exactly once.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { type FakeMagicHour, startFakeMagicHour } from '../../helpers/fake-magichour.ts';
import { TEST_SECRET } from '../../helpers/store.ts';

const BIN = fileURLToPath(new URL('../../../server/keywatch.mjs', import.meta.url));
const TOKEN = 'mhk_live_kill9-test-key-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'keywatch-kill9-'));
const children: ChildProcess[] = [];
let fake: FakeMagicHour | undefined;

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await fake?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Starts `keywatch serve`; resolves with the child and its gateway-only base URL once it listens. */
function serve(upstream: string): Promise<{ child: ChildProcess; gateway: string }> {
  const child = spawn(process.execPath, [BIN, 'serve'], {
    env: {
      ...process.env,
      KEYWATCH_DB: join(dir, 'keywatch.db'),
      KEYWATCH_SECRET: TEST_SECRET,
      KEYWATCH_DEMO: '0',
      KEYWATCH_LOG_LEVEL: 'warn',
      PORT: '0',
      KEYWATCH_GATEWAY_PORT: '0',
      MAGICHOUR_BASE_URL: upstream,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /Gateway-only port: (http:\/\/[^/\s]+)/.exec(out);
      if (m) resolve({ child, gateway: m[1]! });
    });
    child.once('exit', (code) => reject(new Error(`keywatch serve exited (${code}): ${stderr}`)));
  });
}

/** One image creation through the gateway; resolves with the project id once the whole answer arrived. */
function create(agent: http.Agent, gateway: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ name: 'kill -9', style: { prompt: 'a cat' }, image_count: 1 });
    const req = http.request(
      `${gateway}/gw/magichour/v1/ai-image-generator`,
      {
        method: 'POST',
        agent,
        headers: {
          authorization: `Bearer ${TOKEN}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          // The client origin goes through the journal like every other field of the event.
          referer: 'https://shop.example.com/checkout?step=2',
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          // 'end' fires only for an answer that arrived whole (a cut one is an error or 'aborted').
          if (!res.complete || res.statusCode !== 200) return reject(new Error(`status ${res.statusCode}`));
          try {
            resolve((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: string }).id);
          } catch (err) {
            reject(err);
          }
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('kill -9 during gateway traffic', () => {
  it('loses no answered request: each is stored exactly once after a restart', async () => {
    fake = await startFakeMagicHour();
    fake.keys.add(TOKEN);
    const first = await serve(fake.url);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
    const answered: string[] = [];
    let failed = 0;
    // From the first moment the port is open (when the writer used to be still starting).
    const client = async () => {
      for (;;) {
        try {
          answered.push(await create(agent, first.gateway));
        } catch {
          failed++;
          return;
        }
      }
    };
    const clients = Array.from({ length: 16 }, client);
    await new Promise((r) => setTimeout(r, 3_000));
    first.child.kill('SIGKILL');
    await Promise.all(clients);
    agent.destroy();
    expect(answered.length).toBeGreaterThan(50);
    expect(failed).toBe(16);

    // What the killed process had stored itself (the rest must come from its journal).
    const storedAtKill = countEvents();

    const second = await serve(fake.url);
    const db = new Database(join(dir, 'keywatch.db'), { readonly: true });
    try {
      const count = db.prepare<[string], { n: number }>(
        "SELECT count(*) AS n FROM usage_events WHERE source = 'gateway' AND project_id = ?",
      );
      const missing = () => answered.filter((id) => count.get(id)!.n === 0).length;
      for (let i = 0; i < 200 && missing() > 0; i++) await new Promise((r) => setTimeout(r, 50));
      const counts = answered.map((id) => count.get(id)!.n);
      expect({ answered: answered.length, missing: counts.filter((n) => n === 0).length }).toEqual({
        answered: answered.length,
        missing: 0,
      });
      expect(counts.filter((n) => n > 1)).toEqual([]);
      // Nothing at all is counted twice (in-flight requests the upstream answered may add a few).
      const doubled = db
        .prepare(
          "SELECT project_id FROM usage_events WHERE source = 'gateway' GROUP BY project_id HAVING count(*) > 1",
        )
        .all();
      expect(doubled).toEqual([]);
      const credits = db.prepare('SELECT sum(credits) AS c FROM usage_minute').get() as { c: number };
      expect(credits.c).toBeGreaterThanOrEqual(answered.length * 5);
      expect(storedAtKill).toBeLessThanOrEqual(countEvents());
      expect(
        db.prepare("SELECT DISTINCT client_origin AS o FROM usage_events WHERE source = 'gateway'").all(),
      ).toEqual([{ o: 'https://shop.example.com' }]);
    } finally {
      db.close();
      second.child.kill('SIGTERM');
      await new Promise((r) => second.child.once('exit', r));
    }
  }, 120_000);
});

function countEvents(): number {
  const db = new Database(join(dir, 'keywatch.db'), { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM usage_events').get() as { n: number }).n;
  } finally {
    db.close();
  }
}
