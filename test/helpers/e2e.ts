/** Real server + Debian's headless Chromium for the end-to-end tests, screenshots and the page bench. */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { addUser } from '../../server/auth/users.ts';
import { fakeClock } from '../../server/clock.ts';
import { incidents, keys } from '../../server/db/schema/index.ts';
import { silentLogger } from '../../server/log.ts';
import { startServer } from '../../server/serve.ts';
import { T0, testConfig } from './store.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Under CI a missing browser is a failure, not a skip. */
export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0')
    throw new Error(`${CHROMIUM} is missing: CI must install Debian's chromium.`);
  return false;
}

export const VIEWER = { email: 'viewer@keywatch.test', password: 'viewer-password-123' };

export type DemoServer = Awaited<ReturnType<typeof startDemoServer>>;

/** The real server on 127.0.0.1 with demo data, a fake clock at T0, and an admin and a viewer. */
export async function startDemoServer(env: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'keywatch-e2e-'));
  const config = testConfig(dir, { KEYWATCH_DEMO: '1', KEYWATCH_CREDIT_PRICE: '0.0015', ...env });
  const lines: string[] = [];
  const clock = fakeClock(T0);
  const running = await startServer(config, silentLogger, { clock, announce: (l) => lines.push(l) });
  const password = /password: (\S+)/.exec(lines.join('\n'))?.[1];
  if (!password) throw new Error(`No first-admin password announced:\n${lines.join('\n')}`);
  await addUser(running.deps, { email: VIEWER.email, role: 'viewer', password: VIEWER.password }, 'test');
  return {
    url: running.url,
    deps: running.deps,
    clock,
    admin: { email: config.adminEmail, password },
    async stop() {
      await running.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A fresh profile each time: nothing carries over between runs. */
export async function launchBrowser(
  viewport = { width: 1280, height: 800 },
  timezoneId = 'UTC',
  /** `ignoreHTTPSErrors`: trust a test's self-signed certificate. */
  options: { ignoreHTTPSErrors?: boolean } = {},
) {
  const profile = mkdtempSync(join(tmpdir(), 'keywatch-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
    timezoneId,
    acceptDownloads: true,
    ...options,
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export async function signIn(page: Page, base: string, who: { email: string; password: string }, next = '/') {
  await page.goto(`${base}/login?next=${encodeURIComponent(next)}`);
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await Promise.all([
    page.waitForURL((u) => !u.pathname.startsWith('/login')),
    page.getByRole('button', { name: 'Sign in' }).click(),
  ]);
}

/** Resolves when the canvas has at least `min` painted pixels (Chart.js drew something). */
export async function waitForChart(page: Page, canvasId: string, min = 200, timeout = 15_000) {
  await page.waitForFunction(
    ([id, threshold]) => {
      const canvas = document.getElementById(id as string) as HTMLCanvasElement | null;
      if (!canvas || canvas.width === 0) return false;
      const data = canvas.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data;
      if (!data) return false;
      let painted = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) painted++;
      return painted >= (threshold as number);
    },
    [canvasId, min] as const,
    { timeout, polling: 50 },
  );
}

/** Detection lands in another branch; the tests put one incident in the table themselves. */
export async function insertIncident(server: DemoServer, keyName: string, id = 'inc_e2e_spike') {
  const { db } = server.deps;
  const key = (await db.select().from(keys).where(eq(keys.name, keyName)).limit(1))[0];
  if (!key) throw new Error(`No demo key ${keyName}`);
  const started = T0 - 5 * 3_600_000;
  await db.insert(incidents).values({
    id,
    keyId: key.id,
    kind: 'credit_spike',
    severity: 'critical',
    state: 'open',
    startedAt: started,
    lastSeenAt: started + 90 * 60_000,
    observed: 9200,
    expected: 450,
    score: 0.98,
    impactCredits: 8750,
    summary: `${keyName} spent 9,200 credits in 90 minutes, about 20x its usual rate`,
    // As detection writes it: amounts over the 15 minutes it judged at the peak.
    details: JSON.stringify({
      window: { from: new Date(started).toISOString(), to: new Date(started + 90 * 60_000).toISOString() },
      peak_window: {
        from: new Date(started + 30 * 60_000).toISOString(),
        to: new Date(started + 45 * 60_000).toISOString(),
      },
      unit: 'credits',
      baseline: {
        expected: 450,
        low: 200,
        high: 900,
        method: 'usual range for 15 minutes at this time of the week',
      },
      contributors: {
        operations: [{ name: 'video-to-video', credits: 8600, requests: 31 }],
        ips: [{ value: '198.51.100.23', requests: 31 }],
      },
    }),
    createdAt: started,
    updatedAt: started,
  });
  return id;
}

export type { BrowserContext, Page };
