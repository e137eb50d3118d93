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

type Server = Awaited<ReturnType<typeof startDemoServer>>;

/** Every page at both widths; `tag` tells the demo data ('') from the empty database ('-empty'). */
async function shoot(server: Server, pages: (readonly [string, string])[], tag: string) {
  for (const [size, viewport] of Object.entries(VIEWPORTS)) {
    const browser = await launchBrowser(viewport);
    const page = await browser.context.newPage();
    if (!tag) {
      await page.goto(`${server.url}/login`);
      await page.screenshot({ path: `${OUT}/login-${size}.png`, fullPage: true });
    }
    await signIn(page, server.url, server.admin);
    for (const [name, path] of pages) {
      await page.goto(`${server.url}${path}`, { waitUntil: 'networkidle' });
      await page.screenshot({ path: `${OUT}/${name}${tag}-${size}.png`, fullPage: true });
      process.stderr.write(`${OUT}/${name}${tag}-${size}.png\n`);
    }
    await browser.close();
  }
}

const COMMON = [
  ['overview', '/'],
  ['keys', '/keys'],
  ['incidents', '/incidents'],
  ['budgets', '/budgets'],
  ['capacity', '/capacity'],
  ['invoice', '/invoice'],
  ['settings', '/settings'],
] as const;

async function main() {
  if (!chromiumAvailable()) throw new Error('Install chromium first (apt-get install -y chromium).');
  mkdirSync(OUT, { recursive: true });
  const server = await startDemoServer();
  try {
    const incident = await insertIncident(server, 'prod-web');
    const keyId = server.deps.sqlite
      .prepare("SELECT id FROM keys WHERE name = 'prod-web'")
      .pluck()
      .get() as string;
    await shoot(
      server,
      [...COMMON, ['key-detail', `/keys/${keyId}`], ['incident-detail', `/incidents/${incident}`]],
      '',
    );
  } finally {
    await server.stop();
  }
  // The same pages on an empty database: what a new install shows before any usage.
  const empty = await startDemoServer({ KEYWATCH_DEMO: '0' });
  try {
    await shoot(empty, [...COMMON], '-empty');
  } finally {
    await empty.stop();
  }
}

await main();
