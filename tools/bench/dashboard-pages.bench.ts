/**
 * Page weight and speed in headless Chromium on the demo data: gzip-compressed JS and CSS bytes per
 * page, and milliseconds from navigation start to the first chart with painted pixels (the cold first
 * load, then the median of warm loads), with DOMContentLoaded of the same loads as the baseline ratio.
 */
import {
  chromiumAvailable,
  insertIncident,
  launchBrowser,
  signIn,
  startDemoServer,
} from '../../test/helpers/e2e.ts';

const RUNS = 7;

/** Runs before page scripts (CDP-injected, so the CSP does not apply): notes when a canvas first has pixels. */
const FIRST_PAINT_PROBE = `
  (() => {
    const check = () => {
      for (const c of document.querySelectorAll('canvas')) {
        if (!c.width) continue;
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        for (let i = 3; i < d.length; i += 16) if (d[i] > 0) { window.__firstChart = performance.now(); return; }
      }
      requestAnimationFrame(check);
    };
    requestAnimationFrame(check);
  })();
`;

/** Evaluated as a string: tsx would otherwise wrap named inner functions in a helper the page lacks. */
const MEASURE = `(() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const assets = performance.getEntriesByType('resource');
  const sum = (ext) => assets.filter((r) => r.name.endsWith(ext)).reduce((s, r) => s + r.encodedBodySize, 0);
  return { first: window.__firstChart ?? null, dcl: nav.domContentLoadedEventEnd, js: sum('.js'), css: sum('.css') };
})()`;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main() {
  if (!chromiumAvailable()) {
    process.stdout.write('skipped: /usr/bin/chromium is not installed\n');
    return;
  }
  const server = await startDemoServer();
  const incident = await insertIncident(server, 'prod-web');
  const keyId = server.deps.sqlite
    .prepare("SELECT id FROM keys WHERE name = 'prod-web'")
    .pluck()
    .get() as string;
  const pages = [
    ['overview', '/', true],
    ['keys', '/keys', false],
    ['key detail', `/keys/${keyId}`, true],
    ['incidents', '/incidents', false],
    ['incident detail', `/incidents/${incident}`, true],
    ['budgets & rules', '/budgets', false],
    ['capacity', '/capacity', true],
    ['invoice', '/invoice', false],
    ['settings', '/settings', false],
  ] as const;
  const browser = await launchBrowser();
  try {
    const page = await browser.context.newPage();
    await page.addInitScript(FIRST_PAINT_PROBE);
    await signIn(page, server.url, server.admin);
    process.stdout.write(
      'page              JS gz B   CSS gz B   cold chart ms   first chart ms   DOMContentLoaded ms   ratio\n',
    );
    for (const [name, path, chart] of pages) {
      const charts: number[] = [];
      const dcl: number[] = [];
      let js = 0;
      let css = 0;
      let cold: number | null = null;
      // The first load is cold (fills the cache and the server's bundle); the rest are measured.
      for (let run = 0; run <= RUNS; run++) {
        await page.goto(`${server.url}${path}`, { waitUntil: 'load' });
        if (chart)
          await page.waitForFunction(
            () => (window as { __firstChart?: number }).__firstChart !== undefined,
            null,
            { timeout: 15_000 },
          );
        const m = (await page.evaluate(MEASURE)) as {
          first: number | null;
          dcl: number;
          js: number;
          css: number;
        };
        if (run === 0) {
          cold = m.first;
          continue;
        }
        if (m.first !== null) charts.push(m.first);
        dcl.push(m.dcl);
        js = m.js;
        css = m.css;
      }
      const first = charts.length ? median(charts) : null;
      const base = median(dcl);
      process.stdout.write(
        `${name.padEnd(17)} ${String(js).padStart(8)}   ${String(css).padStart(8)}   ${(cold === null ? '—' : cold.toFixed(0)).padStart(13)}   ${(first === null ? '—' : first.toFixed(0)).padStart(14)}   ${base.toFixed(0).padStart(19)}   ${first === null ? '—' : (first / base).toFixed(2)}\n`,
      );
    }
  } finally {
    await browser.close();
    await server.stop();
  }
}

await main();
