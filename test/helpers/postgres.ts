/**
 * A throwaway PostgreSQL cluster in a temp folder for the tests that need a real server: initdb,
 * then `postgres` on a free port of 127.0.0.1 (run as the `postgres` user when we are root: the
 * server refuses to run as root), a fresh database per caller, fast shutdown and removal after.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** A role that must give its password (scram): trust would accept any, and tests need a wrong one refused. */
export const PASSWORD_ROLE = { user: 'keywatch_pw', password: 'right-password-123' };

const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;

/** The newest installed PostgreSQL's bin folder (Debian puts them under /usr/lib/postgresql/N/bin). */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : undefined;
}

/** Under CI missing binaries are a failure, not a skip (the rule chromiumAvailable follows). */
export function postgresAvailable(): boolean {
  if (postgresBinDir()) return true;
  if (process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0')
    throw new Error(
      "PostgreSQL is missing (no /usr/lib/postgresql/*/bin/initdb): CI must install Debian's postgresql.",
    );
  process.stderr.write(
    'Skipping the PostgreSQL tests: no /usr/lib/postgresql/*/bin/initdb (apt-get install postgresql).\n',
  );
  return false;
}

export type PgCluster = {
  port: number;
  dir: string;
  binDir: string;
  /** A new, empty database; its URL (user postgres, trust auth, no password). */
  createDatabase(): Promise<string>;
  /** The URL of a database as the password role (which must give PASSWORD_ROLE.password). */
  urlAs(user: string, password: string | undefined, database: string): string;
  /** Shuts the server down, keeping its data (a database lost while Keywatch runs). */
  pause(): Promise<void>;
  /** Starts it again on the same port, with the same data. */
  resume(): Promise<void>;
  stop(): Promise<void>;
};

const asRoot = process.getuid?.() === 0;

/** Runs a PostgreSQL binary as the postgres user when we are root. */
function pgCommand(binDir: string, name: string, args: string[]): [string, string[]] {
  const bin = join(binDir, name);
  return asRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startPgCluster(): Promise<PgCluster> {
  const binDir = postgresBinDir();
  if (!binDir) throw new Error('PostgreSQL binaries are missing: check postgresAvailable() first.');
  const dir = mkdtempSync(join(tmpdir(), 'keywatch-pg-'));
  const data = join(dir, 'data');
  if (asRoot) chownSync(dir, uidOf('postgres'), gidOf('postgres'));
  const [initCmd, initArgs] = pgCommand(binDir, 'initdb', [
    '-D',
    data,
    '-U',
    'postgres',
    '--auth=trust',
    '--encoding=UTF8',
    '--no-sync',
    '--no-instructions',
  ]);
  const init = spawnSync(initCmd, initArgs, { encoding: 'utf8', timeout: START_TIMEOUT_MS });
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${init.stderr || init.error?.message}`);
  }
  // Trust on 127.0.0.1 for everyone except the password role, so a wrong password can be tested.
  const hba = join(data, 'pg_hba.conf');
  writeFileSync(
    hba,
    [
      'local all all trust',
      `host all ${PASSWORD_ROLE.user} 127.0.0.1/32 scram-sha-256`,
      'host all all 127.0.0.1/32 trust',
      '',
    ].join('\n'),
  );
  if (asRoot) chownSync(hba, uidOf('postgres'), gidOf('postgres'));

  const launch = async (port: number): Promise<{ child?: ChildProcess; log: string }> => {
    const [cmd, args] = pgCommand(binDir, 'postgres', [
      '-D',
      data,
      '-p',
      String(port),
      '-k',
      dir,
      '-c',
      'listen_addresses=127.0.0.1',
      // A test cluster is thrown away: durability only costs time here.
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
    ]);
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr?.on('data', (d: Buffer) => {
      log += d.toString();
    });
    if (await acceptsConnections(port, child)) return { child, log };
    child.kill('SIGKILL');
    return { log };
  };
  const shutDown = async () => {
    const [cmd, args] = pgCommand(binDir, 'pg_ctl', ['stop', '-D', data, '-m', 'fast', '-w', '-t', '10']);
    const stopped = spawnSync(cmd, args, { encoding: 'utf8', timeout: STOP_TIMEOUT_MS });
    if (stopped.status !== 0) server?.kill('SIGKILL');
    await waitForExit(server, STOP_TIMEOUT_MS);
  };

  let server: ChildProcess | undefined;
  let port = 0;
  // Another process may take the free port between the probe and the bind: try a few.
  for (let attempt = 0; attempt < 3 && !server; attempt++) {
    port = await freePort();
    const started = await launch(port);
    server = started.child;
    if (!server && attempt === 2) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`PostgreSQL did not start within ${START_TIMEOUT_MS} ms: ${started.log.slice(-2000)}`);
    }
  }
  const connectAdmin = async () => {
    const c = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
    await c.connect();
    return c;
  };
  let admin = await connectAdmin();
  await admin.query(`CREATE ROLE ${PASSWORD_ROLE.user} LOGIN PASSWORD '${PASSWORD_ROLE.password}'`);
  let n = 0;
  const urlAs = (user: string, password: string | undefined, database: string) =>
    `postgres://${user}${password === undefined ? '' : `:${encodeURIComponent(password)}`}@127.0.0.1:${port}/${database}`;

  return {
    port,
    dir,
    binDir,
    urlAs,
    async createDatabase() {
      const name = `keywatch_${process.pid}_${++n}`;
      await admin.query(`CREATE DATABASE ${name} OWNER ${PASSWORD_ROLE.user}`);
      return urlAs('postgres', undefined, name);
    },
    async pause() {
      await admin.end().catch(() => {});
      await shutDown();
      server = undefined;
    },
    async resume() {
      const started = await launch(port);
      if (!started.child)
        throw new Error(`PostgreSQL did not restart on port ${port}: ${started.log.slice(-2000)}`);
      server = started.child;
      admin = await connectAdmin();
    },
    async stop() {
      await admin.end().catch(() => {});
      if (server) await shutDown();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls until the server answers a query, it exits, or the start-up time is over. */
async function acceptsConnections(port: number, child: ChildProcess): Promise<boolean> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    const c = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
    try {
      await c.connect();
      await c.query('SELECT 1');
      return true;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      await c.end().catch(() => {});
    }
  }
  return false;
}

function waitForExit(child: ChildProcess | undefined, ms: number): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function idOf(flag: '-u' | '-g', user: string): number {
  const r = spawnSync('id', [flag, user], { encoding: 'utf8' });
  const n = Number(r.stdout.trim());
  if (r.status !== 0 || !Number.isInteger(n))
    throw new Error(`There is no ${user} system user to run PostgreSQL as.`);
  return n;
}
const uidOf = (user: string) => idOf('-u', user);
const gidOf = (user: string) => idOf('-g', user);
