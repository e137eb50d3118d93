/**
 * The compiled build (server/build.mjs): what `keywatch` runs after `npm install`. Built into a
 * folder of its own inside the checkout, it must find the migrations, the dashboard's client
 * sources and package.json from there, start the gateway's writer thread without tsx, and be
 * judged stale as soon as a source it was built from is newer than the build.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer, freshBuild } from '../server/build.mjs';
import { rootPath } from '../server/paths.ts';
import { type FakeMagicHour, startFakeMagicHour } from './helpers/fake-magichour.ts';

const BUILD = rootPath('server', `.build-test-${process.pid}`);
const VERSION = (JSON.parse(readFileSync(rootPath('package.json'), 'utf8')) as { version: string }).version;
let data: string;
let entry: string;

beforeAll(async () => {
  await buildServer(BUILD);
  entry = freshBuild(BUILD)!;
  data = mkdtempSync(join(tmpdir(), 'keywatch-build-'));
}, 120_000);
afterAll(() => {
  rmSync(BUILD, { recursive: true, force: true });
  rmSync(data, { recursive: true, force: true });
});

/** Runs the compiled CLI with plain Node: no tsx anywhere (no --import, no loader). */
function runCompiled(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [entry, ...args], {
    env: { ...process.env, KEYWATCH_LOG_LEVEL: 'silent', KEYWATCH_DB: join(data, 'k.db'), ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('freshBuild', () => {
  it('names the compiled CLI while no source is newer than the build', () => {
    expect(entry).toBe(join(BUILD, 'keywatch.js'));
    const manifest = JSON.parse(readFileSync(join(BUILD, 'inputs.json'), 'utf8'));
    expect(manifest.inputs).toContain('server/cli/index.ts');
    expect(manifest.inputs).toContain('server/ingest/gateway/usage-writer-thread.ts');
    // Bundled dependencies stand in by their package.json, not file by file.
    expect(manifest.inputs.some((f: string) => /node_modules\/hono\/package\.json$/.test(f))).toBe(true);
    expect(manifest.inputs.some((f: string) => /node_modules\/hono\/dist\//.test(f))).toBe(false);
  });

  it('refuses a build older than one of its sources, or none at all', () => {
    const manifestPath = join(BUILD, 'inputs.json');
    const original = readFileSync(manifestPath, 'utf8');
    try {
      // As if the build had begun before the sources were last written.
      writeFileSync(manifestPath, JSON.stringify({ ...JSON.parse(original), started_at: 0 }));
      expect(freshBuild(BUILD)).toBeNull();
      writeFileSync(manifestPath, JSON.stringify({ ...JSON.parse(original), inputs: ['server/gone.ts'] }));
      expect(freshBuild(BUILD)).toBeNull();
    } finally {
      writeFileSync(manifestPath, original);
    }
    expect(freshBuild(BUILD)).toBe(entry);
    expect(freshBuild(join(BUILD, 'nowhere'))).toBeNull();
  });
});

describe('the compiled CLI', () => {
  it('prints the version and migrates with plain Node', () => {
    const version = runCompiled(['--version']);
    expect(version).toMatchObject({ code: 0, stdout: `${VERSION}\n` });
    expect(runCompiled(['migrate']).code).toBe(0);
    const token = runCompiled(['token', 'create', '--name', 'build-test', '--scope', 'read']);
    expect(token.code).toBe(0);
    expect(token.stdout.trim()).toMatch(/^\S{20,}$/);
  });

  it("words validation errors with zod's English messages (the only locale bundled)", () => {
    const bad = runCompiled(['user', 'add', '--email', 'not-an-email', '--role', 'admin']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('email: Invalid email address');
  });

  describe('serve', () => {
    let child: ChildProcess;
    let url: string;
    let fake: FakeMagicHour;
    let token: string;
    let admin: string;

    beforeAll(async () => {
      fake = await startFakeMagicHour();
      fake.keys.add('mhk_live_compiled_7q7q');
      const env = { KEYWATCH_DB: join(data, 'serve.db') };
      token = runCompiled(['token', 'create', '--name', 'reader', '--scope', 'read'], env).stdout.trim();
      admin = runCompiled(['token', 'create', '--name', 'admin', '--scope', 'admin'], env).stdout.trim();
      child = spawn(process.execPath, [entry, 'serve'], {
        env: {
          ...process.env,
          ...env,
          PORT: '0',
          KEYWATCH_DEMO: '0',
          KEYWATCH_LOG_LEVEL: 'silent',
          MAGICHOUR_BASE_URL: fake.url,
        },
      });
      let out = '';
      url = await new Promise<string>((resolve, reject) => {
        child.stdout!.on('data', (d) => {
          out += d;
          const m = /running at (http:\/\/\S+)/.exec(out);
          if (m) resolve(m[1]!);
        });
        child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
      });
    }, 60_000);
    afterAll(async () => {
      const exit = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exit;
      await fake.close();
    });

    it('is ready (every migration found and applied) and serves the dashboard assets', async () => {
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      const login = await fetch(`${url}/login`);
      expect(login.status).toBe(200);
      // The client scripts are bundled from web/client/ at first use: found from the build too.
      const script = /src="(\/assets\/login-[^"]+\.js)"/.exec(await login.text())?.[1];
      expect(script).toBeTruthy();
      expect((await fetch(`${url}${script}`)).status).toBe(200);
    });

    it("records gateway usage through the writer thread's own compiled bundle", async () => {
      const res = await fetch(`${url}/gw/magichour/v1/ai-image-generator`, {
        method: 'POST',
        headers: { authorization: 'Bearer mhk_live_compiled_7q7q', 'content-type': 'application/json' },
        body: '{"image_count":1}',
      });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      // The writer thread stores batches within moments; poll the API until the key shows.
      let keys: { last4: string }[] = [];
      for (let i = 0; i < 100 && keys.length === 0; i++) {
        const list = await fetch(`${url}/api/v1/keys`, { headers: { authorization: `Bearer ${token}` } });
        keys = ((await list.json()) as { keys: { last4: string }[] }).keys;
        if (keys.length === 0) await new Promise((r) => setTimeout(r, 100));
      }
      expect(keys.map((k) => k.last4)).toEqual(['7q7q']);
    });

    it('runs push, detection and backtests on their own compiled thread bundles', async () => {
      const call = async (path: string, body: unknown) => {
        const res = await fetch(`${url}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        return { status: res.status, json: (await res.json()) as Record<string, unknown> };
      };
      const event = { id: 'compiled-1', key: 'compiled-push', credits: 5, ts: Date.now() - 120_000 };
      expect(await call('/api/v1/usage', { events: [event] })).toEqual({
        status: 200,
        json: { accepted: 1, duplicates: 0 },
      });
      const run = await call('/api/v1/detect/run', {});
      expect(run.status).toBe(200);
      expect(run.json.evaluated_until).toEqual(expect.any(String));
      const backtest = await call('/api/v1/backtest', { kind: 'credit_spike', days: 1 });
      expect(backtest.status).toBe(200);
      expect(backtest.json.fired).toEqual(expect.any(Number));
    });

    it('reads usage and exports on the compiled reads worker bundle', async () => {
      // After the push above: its key's usage comes back from the reads worker.
      const get = (path: string) => fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } });
      const usage = await get('/api/v1/usage?step=hour&group=key');
      expect(usage.status).toBe(200);
      const body = (await usage.json()) as { groups: { group: string }[] };
      expect(body.groups.map((g) => g.group)).toContain('compiled-push');
      const csv = await get('/export/keys.csv');
      expect(csv.status).toBe(200);
      expect(await csv.text()).toContain('compiled-push');
    });

    it('keeps a code cache once serving (load-compiled.mjs), which later runs read', async () => {
      const cache = join(BUILD, 'cli.cache');
      // Written right after the start; the requests above came after it.
      expect(existsSync(cache)).toBe(true);
      expect(statSync(cache).size).toBeGreaterThan(100_000);
      expect(runCompiled(['--version'])).toMatchObject({ code: 0, stdout: `${VERSION}\n` });
    });
  });
});

describe('the code cache', () => {
  it('is ignored when V8 rejects it (another Node version, a damaged file), and serve writes it again', async () => {
    const cache = join(BUILD, 'cli.cache');
    writeFileSync(cache, 'not a code cache');
    expect(runCompiled(['--version'])).toMatchObject({ code: 0, stdout: `${VERSION}\n` });
    const child = spawn(process.execPath, [entry, 'serve'], {
      env: {
        ...process.env,
        KEYWATCH_DB: join(data, 'cache.db'),
        PORT: '0',
        KEYWATCH_DEMO: '0',
        KEYWATCH_LOG_LEVEL: 'silent',
      },
    });
    try {
      let out = '';
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (d) => {
          out += d;
          if (/running at/.test(out)) resolve();
        });
        child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
      });
      for (let i = 0; i < 100 && statSync(cache).size < 100_000; i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(statSync(cache).size).toBeGreaterThan(100_000);
    } finally {
      const exit = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exit;
    }
  }, 60_000);
});
