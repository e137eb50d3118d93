/**
 * A bench file's role in a process of its own: `script` run through tsx with BENCH_ROLE set, resolved
 * once the role reports (its port, and whatever else it sends). BENCH_PROF=<role> writes that
 * process's CPU profile into BENCH_PROF_DIR (default /tmp/kwprof).
 */
import { type ChildProcess, fork } from 'node:child_process';

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
