/** Runs the real `keywatch` command in a child process. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../server/keywatch.mjs', import.meta.url));

export function runCli(args: string[], env: Record<string, string> = {}, input?: string, cwd?: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    env: { ...process.env, KEYWATCH_LOG_LEVEL: 'silent', ...env },
    encoding: 'utf8',
    timeout: 60_000,
    ...(input !== undefined && { input }),
    ...(cwd && { cwd }),
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
