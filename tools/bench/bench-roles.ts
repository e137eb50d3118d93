/**
 * A bench file's role in a process of its own: `script` run through tsx with BENCH_ROLE set, resolved
 * once the role reports (its port, and whatever else it sends). BENCH_PROF=<role> writes that
 * process's CPU profile into BENCH_PROF_DIR (default /tmp/kwprof).
 */
import { type ChildProcess, execFileSync, fork, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export type Started = { child: ChildProcess; port: number; info: Record<string, string> };

export function spawnRole(script: string, role: string, env: Record<string, string> = {}): Promise<Started> {
  const child = fork(script, [], {
    env: { ...process.env, ...env, BENCH_ROLE: role },
    execArgv: [
      '--import',
      'tsx',
      ...(process.env.BENCH_PROF === role
        ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROF_DIR ?? '/tmp/kwprof'}`]
        : []),
    ],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (m: { port: number | string } & Record<string, string>) =>
      resolve({ child, port: Number(m.port), info: m }),
    );
    child.once('exit', (code) => reject(new Error(`${role} exited with ${code}`)));
  });
}

const CLI = fileURLToPath(new URL('../../server/keywatch.mjs', import.meta.url));

/** An API token made through the CLI on `env`'s database: the token alone (its stdout). */
export function createTokenWithCli(env: NodeJS.ProcessEnv, name: string, scope: string): string {
  return execFileSync(process.execPath, [CLI, 'token', 'create', '--name', name, '--scope', scope], {
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  }).trim();
}

/**
 * Keywatch as it ships: `node server/keywatch.mjs serve` from the compiled build (what `npm start`
 * runs) on `env`, resolved once each pattern matched its stdout (the first group of each).
 * BENCH_PROF=keywatch writes its CPU profile, as for a role.
 */
export function startCompiledServe(
  env: NodeJS.ProcessEnv,
  announced: readonly RegExp[],
): Promise<{ child: ChildProcess; found: string[] }> {
  const prof =
    process.env.BENCH_PROF === 'keywatch'
      ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROF_DIR ?? '/tmp/kwprof'}`]
      : [];
  const child = spawn(process.execPath, [...prof, CLI, 'serve'], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const found = announced.map((pattern) => pattern.exec(out)?.[1]);
      if (found.every((f) => f !== undefined)) resolve({ child, found: found as string[] });
    });
    child.once('exit', (code) => reject(new Error(`keywatch serve exited with ${code}`)));
  });
}
