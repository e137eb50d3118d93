/** `npm run screenshots`: every page at desktop and phone width into /tmp/kw-shots/ (not committed). */
import { mkdirSync } from 'node:fs';
import {
  chromiumAvailable,
  insertIncident,
  launchBrowser,
  signIn,
  startDemoServer,
} from '../test/helpers/e2e.ts';

const OUT = process.env.KW_SHOTS_DIR ?? '/tmp/kw-shots';
const VIEWPORTS = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } } as const;

async function main() {
  if (!chromiumAvailable()) throw new Error('Install chromium first (apt-get install -y chromium).');
  mkdirSync(OUT, { recursive: true });
  const server = await startDemoServer();
  const incident = insertIncident(server, 'prod-web');
  const keyId = server.deps.sqlite
    .prepare("SELECT id FROM keys WHERE name = 'prod-web'")
    .pluck()
    .get() as string;
  const pages = [
    ['overview', '/'],
    ['keys', '/keys'],
    ['key-detail', `/keys/${keyId}`],
    ['incidents', '/incidents'],
    ['incident-detail', `/incidents/${incident}`],
    ['budgets', '/budgets'],
    ['capacity', '/capacity'],
    ['settings', '/settings'],
  ] as const;
  try {
    for (const [size, viewport] of Object.entries(VIEWPORTS)) {
      const browser = await launchBrowser(viewport);
      const page = await browser.context.newPage();
      await page.goto(`${server.url}/login`);
      await page.screenshot({ path: `${OUT}/login-${size}.png`, fullPage: true });
      await signIn(page, server.url, server.admin);
      for (const [name, path] of pages) {
        await page.goto(`${server.url}${path}`, { waitUntil: 'networkidle' });
        await page.screenshot({ path: `${OUT}/${name}-${size}.png`, fullPage: true });
        process.stderr.write(`${OUT}/${name}-${size}.png\n`);
      }
      await browser.close();
    }
  } finally {
    await server.stop();
  }
}

await main();
