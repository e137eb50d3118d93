/**
 * The layer rule of README's architecture section, checked over the real import graph: a module
 * imports only from its own layer or the layers below it, and each concern lives in one folder.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');

/** Top to bottom; the longest path or folder that matches a file names its layer. */
const LAYERS: { name: string; paths: string[] }[] = [
  {
    name: 'entry',
    paths: [
      'server/serve.ts',
      'server/cli/',
      'server/keywatch.mjs',
      'server/fresh-build.mjs',
      'server/build.mjs',
      'server/load-compiled.mjs',
    ],
  },
  { name: 'app', paths: ['server/app.ts'] },
  { name: 'ops', paths: ['server/ops/'] },
  { name: 'web', paths: ['web/'] },
  { name: 'jobs', paths: ['server/jobs/'] },
  { name: 'simulate', paths: ['server/simulate/'] },
  { name: 'ingest', paths: ['server/ingest/'] },
  { name: 'detection', paths: ['server/detection/'] },
  { name: 'alerts', paths: ['server/alerts/'] },
  { name: 'invoice', paths: ['server/invoice/'] },
  { name: 'budgets', paths: ['server/budgets/'] },
  { name: 'detection-core', paths: ['server/detection/core/'] },
  { name: 'incidents', paths: ['server/incidents/'] },
  { name: 'forecast', paths: ['server/forecast/'] },
  { name: 'account', paths: ['server/account/'] },
  { name: 'keys', paths: ['server/keys/'] },
  { name: 'usage', paths: ['server/usage/'] },
  { name: 'auth', paths: ['server/auth/'] },
  { name: 'audit', paths: ['server/audit/'] },
  { name: 'http', paths: ['server/http/'] },
  { name: 'deps', paths: ['server/deps.ts'] },
  { name: 'db', paths: ['server/db/'] },
  {
    name: 'base',
    paths: [
      'server/config.ts',
      'server/config-error.ts',
      'server/storage-target.ts',
      'server/clock.ts',
      'server/log.ts',
      'server/errors.ts',
      'server/timestamps.ts',
      'server/time-zone.ts',
      'server/format.ts',
      'server/network.ts',
      'server/paths.ts',
    ],
  },
];

const walk = (dir: string): string[] =>
  readdirSync(join(ROOT, dir)).flatMap((f) => {
    const p = posix.join(dir, f);
    return statSync(join(ROOT, p)).isDirectory() ? walk(p) : [p];
  });

const SOURCES = [...walk('server'), ...walk('web')].filter((f) => /\.(ts|tsx|mjs)$/.test(f));

function layerOf(path: string): number {
  let best = { layer: -1, length: 0 };
  LAYERS.forEach((l, layer) => {
    for (const p of l.paths) {
      const match = p.endsWith('/') ? path.startsWith(p) : path === p;
      if (match && p.length > best.length) best = { layer, length: p.length };
    }
  });
  return best.layer;
}

/** Relative imports of a file (static, dynamic and type-only), resolved to repository paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const found = text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"](\.{1,2}\/[^'"]+)['"]/g);
  return [...found].map((m) => posix.normalize(posix.join(posix.dirname(file), m[1]!)));
}

describe('layers', () => {
  it('places every source file in exactly one layer', () => {
    expect(SOURCES.filter((f) => layerOf(f) < 0)).toEqual([]);
  });

  it('imports only from the same layer or a lower one', () => {
    const upward = SOURCES.flatMap((file) =>
      importsOf(file)
        .filter((target) => layerOf(target) < layerOf(file))
        .map((target) => `${file} -> ${target}`),
    );
    expect(upward).toEqual([]);
  });

  it('keeps the browser bundle free of server code', () => {
    const client = SOURCES.filter((f) => f.startsWith('web/client/'));
    const leaks = client.flatMap((f) => importsOf(f).filter((t) => !t.startsWith('web/client/')));
    expect(leaks).toEqual([]);
  });

  it('keeps the pure detection core free of I/O', () => {
    const core = SOURCES.filter((f) => f.startsWith('server/detection/core/'));
    const outside = core.flatMap((f) =>
      importsOf(f)
        // Besides itself: the kinds, and local-time arithmetic (pure, and base to every layer).
        .filter(
          (t) =>
            !t.startsWith('server/detection/core/') &&
            t !== 'server/incidents/kinds.ts' &&
            t !== 'server/time-zone.ts',
        )
        .map((t) => `${f} -> ${t}`),
    );
    const io = core.filter((f) =>
      /from ['"](node:|better-sqlite3|drizzle-orm|hono)/.test(readFileSync(join(ROOT, f), 'utf8')),
    );
    expect([...outside, ...io]).toEqual([]);
  });
});

describe('one folder per concern', () => {
  it('writes the incidents table only from incidents/', () => {
    const writers = SOURCES.filter(
      (f) =>
        !f.startsWith('server/incidents/') &&
        /\.(insert|update|delete)\(incidents\)|(INSERT INTO|UPDATE|DELETE FROM) incidents\b/.test(
          readFileSync(join(ROOT, f), 'utf8'),
        ),
    );
    expect(writers).toEqual([]);
  });

  it('keeps every usage source under ingest/', () => {
    const dirs = new Set(SOURCES.map((f) => posix.dirname(f)));
    const stray = [...dirs].filter(
      (d) =>
        /(^|\/)(gateway|providers|sources|webhooks|poll|push|csv)$/.test(d) && !d.startsWith('server/ingest'),
    );
    expect(stray).toEqual([]);
  });

  it('has tests whose folders mirror the code they test', () => {
    const sourceDirs = new Set(SOURCES.flatMap((f) => [posix.dirname(f), f.replace(/\.tsx?$/, '')]));
    const tests = walk('test').filter((f) => f.endsWith('.test.ts'));
    const orphans = tests.filter((t) => {
      const dir = posix.dirname(relative('test', t));
      if (dir === '.' || dir === 'e2e' || dir.startsWith('web')) {
        return dir.startsWith('web') && !sourceDirs.has(dir);
      }
      return !sourceDirs.has(`server/${dir}`);
    });
    expect(orphans).toEqual([]);
  });
});
