/**
 * Client assets: the page scripts bundled by esbuild (ES modules, shared chunks split out) and the
 * one stylesheet (web/styles/*.css joined in name order, which is cascade order), built once in
 * memory on first use, named by content hash and served gzipped.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { rootPath } from '../server/paths.ts';

// From the root, not this module: the compiled server (server/.build/) bundles this file elsewhere.
const WEB_DIR = rootPath('web');

/** One entry script per page; each imports what it needs from web/client/. */
export const PAGE_SCRIPTS = [
  'overview',
  'keys',
  'key-detail',
  'incidents',
  'incident-detail',
  'budgets',
  'capacity',
  'settings',
  'invoice',
  'login',
  'api-reference',
] as const;
export type PageScript = (typeof PAGE_SCRIPTS)[number];

export type Asset = { body: Uint8Array; gzip: Uint8Array; type: string };
export type Assets = {
  /** URL of a page's entry script, and of the chunks it imports (for modulepreload). */
  script(name: PageScript): { src: string; preload: string[] };
  css: string;
  files: Map<string, Asset>;
};

const hash = (data: Uint8Array) => createHash('sha256').update(data).digest('base64url').slice(0, 10);

export async function buildAssets(): Promise<Assets> {
  // Loaded at first use, not with the server: esbuild's API is 100 KB of code every start would parse.
  const { build, transform } = await import('esbuild');
  const result = await build({
    entryPoints: PAGE_SCRIPTS.map((name) => ({
      in: join(WEB_DIR, 'client', 'pages', `${name}.ts`),
      out: name,
    })),
    bundle: true,
    splitting: true,
    format: 'esm',
    minify: true,
    target: 'es2020',
    write: false,
    metafile: true,
    outdir: '/assets',
    entryNames: '[name]-[hash]',
    chunkNames: 'chunk-[hash]',
    legalComments: 'none',
    logLevel: 'silent',
  });
  const files = new Map<string, Asset>();
  const add = (name: string, body: Uint8Array, type: string) =>
    files.set(name, { body, gzip: gzipSync(body, { level: 9 }), type });
  for (const file of result.outputFiles)
    add(basename(file.path), file.contents, 'text/javascript; charset=utf-8');

  const entries = new Map<string, { src: string; preload: string[] }>();
  for (const [path, output] of Object.entries(result.metafile.outputs)) {
    if (!output.entryPoint) continue;
    const name = basename(output.entryPoint, '.ts');
    entries.set(name, {
      src: `/assets/${basename(path)}`,
      preload: output.imports
        .filter((i) => i.kind === 'import-statement')
        .map((i) => `/assets/${basename(i.path)}`),
    });
  }

  const styles = join(WEB_DIR, 'styles');
  const source = readdirSync(styles)
    .filter((f) => f.endsWith('.css'))
    .sort()
    .map((f) => readFileSync(join(styles, f), 'utf8'))
    .join('');
  const css = await transform(source, {
    loader: 'css',
    minify: true,
  });
  const cssBody = new TextEncoder().encode(css.code);
  const cssName = `styles-${hash(cssBody)}.css`;
  add(cssName, cssBody, 'text/css; charset=utf-8');

  return {
    script(name) {
      const entry = entries.get(name);
      if (!entry) throw new Error(`No bundle for page script ${name}`);
      return entry;
    },
    css: `/assets/${cssName}`,
    files,
  };
}

/** Builds on first call only; later calls share the same promise. */
export function lazyAssets(): () => Promise<Assets> {
  let pending: Promise<Assets> | undefined;
  return () => {
    pending ??= buildAssets().catch((err) => {
      pending = undefined;
      throw err;
    });
    return pending;
  };
}
