import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyLogin } from '../server/auth/users.ts';
import { silentLogger } from '../server/log.ts';
import { startServer } from '../server/serve.ts';
import { startFakeMagicHour } from './helpers/fake-magichour.ts';
import { testConfig } from './helpers/store.ts';

const dir = mkdtempSync(join(tmpdir(), 'keywatch-start-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('first start', () => {
  it('seeds demo data, creates the first admin once, serves HTTP, and keeps data on restart', async () => {
    const lines: string[] = [];
    const config = testConfig(dir);
    const first = await startServer(config, silentLogger, { announce: (l) => lines.push(l) });
    try {
      const health = await fetch(`${first.url}/healthz`);
      expect(health.status).toBe(200);
      // The event loop's delay is measured by serve.ts and handed to /metrics.
      const metrics = await (await fetch(`${first.url}/metrics`)).text();
      expect(metrics).toMatch(/^keywatch_event_loop_lag_seconds \d/m);
      expect(metrics).toMatch(/^keywatch_key_credits_total\{key="[^"]+",environment="[^"]*"\} \d/m);
      const password = lines.find((l) => l.startsWith('Sign in as'))?.split('password: ')[1];
      expect(password).toBeTruthy();
      expect(await verifyLogin(first.deps, 'admin@keywatch.local', password!)).toBeTruthy();
      const keys = first.deps.sqlite
        .prepare("SELECT count(*) AS n FROM keys WHERE status != 'discovered'")
        .get() as { n: number };
      const events = first.deps.sqlite.prepare('SELECT count(*) AS n FROM usage_events').get() as {
        n: number;
      };
      expect(keys.n).toBe(8);
      expect(events.n).toBeGreaterThan(20_000);
      // The seeded month is judged before serving: its labelled incidents are already there.
      const incidents = first.deps.sqlite.prepare('SELECT kind, summary FROM incidents').all() as {
        kind: string;
        summary: string;
      }[];
      // Every labelled kind is found, as the incident's kind or as one of its signals.
      const signalKinds = first.deps.sqlite
        .prepare(
          `SELECT DISTINCT json_extract(s.value, '$.kind') AS kind FROM incidents, json_each(incidents.signals) s`,
        )
        .all() as { kind: string }[];
      const kinds = new Set(signalKinds.map((s) => s.kind));
      for (const kind of [
        'credit_spike',
        'sustained_elevation',
        'off_hours',
        'dormant_wake',
        'revoked_use',
        'auth_failures',
        'discovered_key',
      ]) {
        expect(kinds).toContain(kind);
      }
      const wake = incidents.find((i) => i.kind === 'dormant_wake')!;
      expect(wake.summary).toMatch(/after 1\d(\.\d)? days without use/);
      expect(lines.join('\n')).toContain(first.url);
    } finally {
      await first.stop();
    }
    const again: string[] = [];
    const second = await startServer(config, silentLogger, { announce: (l) => again.push(l) });
    try {
      expect(again.join('\n')).not.toMatch(/password|seeding/i);
      const keys = second.deps.sqlite
        .prepare("SELECT count(*) AS n FROM keys WHERE status != 'discovered'")
        .get() as { n: number };
      expect(keys.n).toBe(8);
    } finally {
      await second.stop();
    }
    expect(statSync(join(dir, 'keywatch.db')).size).toBeGreaterThan(0);
  });

  it('starts empty with KEYWATCH_DEMO=0', async () => {
    const emptyDir = mkdtempSync(join(tmpdir(), 'keywatch-empty-'));
    const running = await startServer(testConfig(emptyDir, { KEYWATCH_DEMO: '0' }), silentLogger, {
      announce: () => {},
    });
    try {
      const keys = running.deps.sqlite
        .prepare("SELECT count(*) AS n FROM keys WHERE status != 'discovered'")
        .get() as { n: number };
      expect(keys.n).toBe(0);
    } finally {
      await running.stop();
      rmSync(emptyDir, { recursive: true, force: true });
    }
  });
});

describe('KEYWATCH_GATEWAY_PORT', () => {
  it('serves the gateway alone on its own port, beside the main port', async () => {
    const gatewayDir = mkdtempSync(join(tmpdir(), 'keywatch-gwport-'));
    const fake = await startFakeMagicHour();
    fake.keys.add('mhk_live_servetest_9z9z');
    const lines: string[] = [];
    const running = await startServer(
      testConfig(gatewayDir, {
        KEYWATCH_DEMO: '0',
        KEYWATCH_GATEWAY_PORT: '0',
        MAGICHOUR_BASE_URL: fake.url,
      }),
      silentLogger,
      { announce: (l) => lines.push(l) },
    );
    try {
      const gatewayUrl = running.gatewayUrl!;
      expect(gatewayUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(gatewayUrl).not.toBe(running.url);
      expect(lines).toContain(`Gateway-only port: ${gatewayUrl}/gw/magichour/`);
      const proxied = await fetch(`${gatewayUrl}/gw/magichour/v1/ai-image-generator`, {
        method: 'POST',
        headers: { authorization: 'Bearer mhk_live_servetest_9z9z', 'content-type': 'application/json' },
        body: '{"image_count":2}',
      });
      expect(proxied.status).toBe(200);
      expect(proxied.headers.get('content-security-policy')).toBeNull();
      expect((await fetch(`${gatewayUrl}/healthz`)).status).toBe(404);
      expect((await fetch(`${running.url}/healthz`)).status).toBe(200);
    } finally {
      await running.stop();
      await fake.close();
      rmSync(gatewayDir, { recursive: true, force: true });
    }
    // Stopped means stopped: the gateway port is closed too.
    await expect(fetch(`${running.gatewayUrl}/gw/magichour/v1/face-swap`)).rejects.toThrow();
    expect(running.deps.sqlite.open).toBe(false);
  });

  it('is off unless set', async () => {
    const offDir = mkdtempSync(join(tmpdir(), 'keywatch-gwoff-'));
    const running = await startServer(testConfig(offDir, { KEYWATCH_DEMO: '0' }), silentLogger, {
      announce: () => {},
    });
    await running.stop();
    rmSync(offDir, { recursive: true, force: true });
    expect(running.gatewayUrl).toBeUndefined();
  });
});

describe('keywatch serve', () => {
  it('prints where to sign in and stops cleanly on SIGTERM', async () => {
    const bin = fileURLToPath(new URL('../server/keywatch.mjs', import.meta.url));
    const child = spawn(process.execPath, [bin, 'serve'], {
      env: {
        ...process.env,
        KEYWATCH_DB: join(dir, 'serve.db'),
        PORT: '0',
        KEYWATCH_DEMO: '0',
        KEYWATCH_LOG_LEVEL: 'silent',
      },
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    // The URL is printed once listening; the first admin's sign-in follows once it is created.
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL and sign-in printed: ${out}`)), 30_000);
      child.stdout.on('data', () => {
        const m = /running at (http:\/\/\S+)/.exec(out);
        if (m && /Sign in as admin@keywatch\.local with password: \S+\n/.test(out)) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
    });
    expect(out.indexOf('running at')).toBeLessThan(out.indexOf('Sign in as'));
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
  });
});

describe('embedded (as tools and tests run it)', () => {
  it('stops and lets the process end by itself once every thread has had work', async () => {
    const script = fileURLToPath(new URL('./helpers/embedded-serve.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(out).toContain('stopped 200 200 200');
    expect(code).toBe(0);
  }, 60_000);
});
