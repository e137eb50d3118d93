/**
 * Start-up time (issue 14): from spawning the process to its first answered GET /healthz, and the
 * whole run of `keywatch --version`, each as the median of interleaved rounds and as a ratio to a
 * baseline measured in the same run: a bare Hono hello server (@hono/node-server) for serving,
 * `node -e 0` for the CLI. `keywatch serve` runs with KEYWATCH_DEMO=0 on a new, empty database
 * every round (so migrations and the first admin are part of it), once from the compiled build
 * (what `server/keywatch.mjs` runs after `npm install`) and once from the sources through tsx (what
 * it falls back to when the build is missing or older than a source).
 * Run: npm run bench start (or: npx tsx tools/bench/start.bench.ts [rounds]).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildServer, freshBuild } from '../../server/build.mjs';
import { rootPath } from '../../server/paths.ts';

const ROUNDS = Number(process.argv[2] ?? 7);
const dir = mkdtempSync(join(tmpdir(), 'kw-start-'));
const BARE = join(dir, 'bare.mjs');
// Resolved from the checkout so the bare server loads the same hono as Keywatch.
writeFileSync(
  BARE,
  `import { serve } from ${JSON.stringify(import.meta.resolve('@hono/node-server'))};
import { Hono } from ${JSON.stringify(import.meta.resolve('hono'))};
const app = new Hono().get('/healthz', (c) => c.json({ ok: true }));
serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) =>
  process.stdout.write('Keywatch is running at http://127.0.0.1:' + info.port + '\\n'));
`,
);

type Mode = { name: string; args: string[]; env?: Record<string, string> };

let round = 0;
function serveEnv(): Record<string, string> {
  return {
    KEYWATCH_DB: join(dir, `empty-${round++}.db`),
    KEYWATCH_DEMO: '0',
    PORT: '0',
    KEYWATCH_LOG_LEVEL: 'warn',
    KEYWATCH_SECRET: 'bench-secret-bench-secret-bench-secret-0000',
  };
}

/**
 * Milliseconds from spawn to the first 200 from /healthz; the process is killed after, once
 * `keepUntil` exists when given (the warm-up round waits for the build's code cache).
 */
async function timeToHealthz(mode: Mode, keepUntil?: string): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, mode.args, {
    cwd: rootPath(),
    env: { ...process.env, ...mode.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const url = await announcedUrl(child);
    const res = await fetch(`${url}/healthz`);
    if (res.status !== 200) throw new Error(`${mode.name}: /healthz answered ${res.status}`);
    await res.arrayBuffer();
    const ms = performance.now() - started;
    for (let waited = 0; keepUntil && !existsSync(keepUntil) && waited < 15_000; waited += 50)
      await sleep(50);
    return ms;
  } finally {
    child.kill('SIGKILL');
  }
}

function announcedUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      const m = /running at (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.stderr!.on('data', (d: Buffer) => {
      err += d;
    });
    child.on('exit', (code) => reject(new Error(`exited ${code} before listening: ${err.slice(0, 500)}`)));
  });
}

/** Milliseconds of a whole run that must exit 0. */
function timeRun(mode: Mode): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, mode.args, { cwd: rootPath(), stdio: 'ignore' });
    child.on('exit', (code) =>
      code === 0 ? resolve(performance.now() - started) : reject(new Error(`${mode.name} exited ${code}`)),
    );
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

async function main() {
  // The build the launcher would use; made here when missing or stale, as `npm install` would.
  if (!freshBuild()) await buildServer();
  const compiled = freshBuild();
  if (!compiled) throw new Error('the build is still stale right after building');
  const serveModes: Mode[] = [
    { name: 'bare Hono hello server', args: [BARE] },
    { name: 'keywatch serve (compiled)', args: [rootPath('server/keywatch.mjs'), 'serve'] },
    {
      name: 'keywatch serve (tsx, sources)',
      args: ['--import', 'tsx', rootPath('server/cli/index.ts'), 'serve'],
    },
  ];
  const cliModes: Mode[] = [
    { name: 'node -e 0', args: ['-e', '0'] },
    { name: 'keywatch --version (compiled)', args: [rootPath('server/keywatch.mjs'), '--version'] },
    {
      name: 'keywatch --version (tsx, sources)',
      args: ['--import', 'tsx', rootPath('server/cli/index.ts'), '--version'],
    },
  ];
  const times = new Map<string, number[]>();
  const add = (name: string, ms: number) => times.set(name, [...(times.get(name) ?? []), ms]);
  // `serve` writes the build's code cache once it has started (server/load-compiled.mjs), after
  // the first admin's password hash: later than a timed round lives. The warm-up round waits for
  // it, so the rounds time what every start of an install but its first does.
  const codeCache = join(dirname(compiled), 'cli.cache');
  // One warm-up round (disk cache, tsx's transform cache, the code cache), then interleaved rounds.
  for (let r = 0; r <= ROUNDS; r++) {
    for (const m of serveModes) {
      const keepUntil = r === 0 && m.name === 'keywatch serve (compiled)' ? codeCache : undefined;
      const ms = await timeToHealthz({ ...m, env: serveEnv() }, keepUntil);
      if (r > 0) add(m.name, ms);
    }
    for (const m of cliModes) {
      const ms = await timeRun(m);
      if (r > 0) add(m.name, ms);
    }
  }
  const report = (modes: Mode[], what: string) => {
    const base = median(times.get(modes[0]!.name)!);
    console.log(`\n${what} (median of ${ROUNDS}; ratio to ${modes[0]!.name})`);
    for (const m of modes) {
      const t = median(times.get(m.name)!);
      console.log(`  ${m.name.padEnd(36)} ${t.toFixed(0).padStart(6)} ms  ${(t / base).toFixed(2)}x`);
    }
  };
  report(serveModes, 'spawn to first /healthz');
  report(cliModes, 'whole CLI call');
}

try {
  await main();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
