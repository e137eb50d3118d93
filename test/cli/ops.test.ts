/** The operator's list commands, token revocation, storage faults and owner-only files, via the real CLI. */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeClock } from '../../server/clock.ts';
import { openStore } from '../../server/db/client.ts';
import { silentLogger } from '../../server/log.ts';
import { runCli } from '../helpers/cli.ts';
import { addKey, createWriter } from '../helpers/incident-fixtures.ts';
import { T0, TEST_SECRET, type TestDeps, testConfig } from '../helpers/store.ts';

const dir = mkdtempSync(join(tmpdir(), 'keywatch-ops-'));
const env = { KEYWATCH_DB: join(dir, 'keywatch.db'), KEYWATCH_SECRET: TEST_SECRET };
const mode = (path: string) => statSync(path).mode & 0o777;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let token = '';
beforeAll(async () => {
  // Keys and incidents written the way the server writes them, into the database the CLI reads.
  const config = testConfig(dir);
  const store = openStore(config.dbPath);
  const deps: TestDeps = {
    db: store.db,
    sqlite: store.sqlite,
    clock: fakeClock(T0),
    config,
    log: silentLogger,
    dir,
    dbPath: config.dbPath,
    cleanup: () => store.close(),
  };
  try {
    const prod = await addKey(deps, 'prod-main');
    await addKey(deps, 'old-key', { status: 'revoked', revokedAt: T0 - 1000 });
    const writer = createWriter(deps, async () => {});
    await writer.open({ keyId: prod, summary: 'Spend spiked on prod-main' });
    const second = await writer.open({ keyId: prod, kind: 'error_spike', summary: 'Errors on prod-main' });
    await writer.resolve(second.id);
  } finally {
    deps.cleanup();
  }
  const created = runCli(['token', 'create', '--name', 'log-shipper', '--scope', 'ingest,read'], env);
  expect(created.code).toBe(0);
  token = created.stdout.trim();
  expect(runCli(['user', 'add', '--email', 'ops@example.com', '--role', 'admin'], env).code).toBe(0);
});

describe('list commands', { timeout: 120_000 }, () => {
  it('lists users as a table and as JSON, without passwords', () => {
    const table = runCli(['user', 'list'], env);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^ID\s+EMAIL\s+ROLE\s+CREATED\s+LAST_LOGIN\n/);
    expect(table.stdout).toMatch(/ops@example\.com\s+admin/);
    const json = runCli(['user', 'list', '--json'], env);
    expect(json.code).toBe(0);
    const users = JSON.parse(json.stdout);
    expect(users).toEqual([expect.objectContaining({ email: 'ops@example.com', role: 'admin' })]);
    expect(json.stdout).not.toMatch(/password|scrypt/i);
  });

  it('lists tokens without the token, revokes one (audited as the CLI), then shows it revoked', () => {
    const table = runCli(['token', 'list'], env);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^ID\s+NAME\s+SCOPES\s+LAST_USED\s+CREATED\s+REVOKED\n/);
    expect(table.stdout).toMatch(/log-shipper\s+ingest,read\s+-\s+\S+Z\s+-\n/);
    expect(table.stdout).not.toContain(token);
    const before = JSON.parse(runCli(['token', 'list', '--json'], env).stdout);
    expect(before).toEqual([expect.objectContaining({ name: 'log-shipper', revoked_at: null })]);
    const id = before[0].id as number;

    const revoke = runCli(['token', 'revoke', String(id)], env);
    expect(revoke.code).toBe(0);
    expect(revoke.stderr).toContain('Revoked token');
    expect(revoke.stdout).toBe('');
    const after = runCli(['token', 'list', '--json'], env);
    expect(after.stdout).not.toContain(token);
    expect(JSON.parse(after.stdout)[0].revoked_at).toMatch(/^\d{4}-/);
    expect(runCli(['token', 'list'], env).stdout).not.toMatch(/log-shipper.*\s-\n/);

    const db = new Database(env.KEYWATCH_DB, { readonly: true });
    const audit = db.prepare(`SELECT actor, target FROM audit_log WHERE action = 'token.revoke'`).all();
    db.close();
    expect(audit).toEqual([{ actor: 'cli', target: `token:${id}` }]);

    const missing = runCli(['token', 'revoke', '9999'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/not found/);
    expect(runCli(['token', 'revoke', 'abc'], env).code).toBe(2);
  });

  it('lists keys, filtered by status, and exits 2 on a bad --status', () => {
    const all = runCli(['keys', 'list'], env);
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/^ID\s+NAME\s+PROVIDER/);
    expect(all.stdout).toContain('prod-main');
    expect(all.stdout).toContain('old-key');
    const revoked = JSON.parse(runCli(['keys', 'list', '--status', 'revoked', '--json'], env).stdout);
    expect(revoked.map((k: { name: string }) => k.name)).toEqual(['old-key']);
    const active = runCli(['keys', 'list', '--status', 'active'], env);
    expect(active.stdout).toContain('prod-main');
    expect(active.stdout).not.toContain('old-key');
    const bad = runCli(['keys', 'list', '--status', 'lost'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/active, revoked, discovered/);
    expect(bad.stdout).toBe('');
  });

  it('lists incidents through the API query, by state and limit', () => {
    const all = JSON.parse(runCli(['incidents', 'list', '--json'], env).stdout);
    expect(all).toHaveLength(2);
    const open = JSON.parse(
      runCli(['incidents', 'list', '--state', 'open,acknowledged', '--json'], env).stdout,
    );
    expect(open.map((i: { summary: string }) => i.summary)).toEqual(['Spend spiked on prod-main']);
    expect(JSON.parse(runCli(['incidents', 'list', '--limit', '1', '--json'], env).stdout)).toHaveLength(1);
    const table = runCli(['incidents', 'list'], env);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^ID\s+STARTED\s+STATE/);
    expect(table.stdout).toContain('Errors on prod-main');
    expect(runCli(['incidents', 'list', '--state', 'closed'], env).code).toBe(2);
    expect(runCli(['incidents', 'list', '--limit', '0'], env).code).toBe(2);
  });
});

describe('storage faults', { timeout: 120_000 }, () => {
  it('names KEYWATCH_DB and the path when the directory is a regular file (CANTOPEN)', () => {
    writeFileSync(join(dir, 'plain-file'), 'x');
    const path = join(dir, 'plain-file', 'keywatch.db');
    for (const extra of [{}, { KEYWATCH_SECRET: TEST_SECRET }]) {
      const r = runCli(['user', 'list'], { KEYWATCH_DB: path, KEYWATCH_SECRET: '', ...extra });
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `keywatch: cannot open the database KEYWATCH_DB=${path}: check that its directory exists, is a directory and is writable by this user, or point KEYWATCH_DB at another path.\n`,
      );
    }
    const serve = runCli(['serve'], { KEYWATCH_DB: path, KEYWATCH_SECRET: TEST_SECRET, PORT: '0' });
    expect(serve.code).toBe(1);
    expect(serve.stderr).toMatch(/^keywatch: cannot open the database KEYWATCH_DB=\S+: check/);
    expect(serve.stderr).not.toMatch(/\bat \S+ \(/);
  });

  it('says a file that is not a database is not one (NOTADB), without a stack trace', () => {
    const path = join(dir, 'notes.txt');
    writeFileSync(path, 'these are not the tables you are looking for\n'.repeat(100));
    const r = runCli(['migrate'], { KEYWATCH_DB: path, KEYWATCH_SECRET: TEST_SECRET });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^keywatch: the file KEYWATCH_DB=\S+notes\.txt is not a Keywatch database/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\bat \S+ \(/);
  });
});

describe('owner-only files', { timeout: 120_000 }, () => {
  it('creates the database, its -wal and -shm 0600 whatever the umask', () => {
    const path = join(dir, 'modes', 'kw.db');
    const old = process.umask(0o022);
    try {
      const store = openStore(path);
      try {
        for (const f of [path, `${path}-wal`, `${path}-shm`]) expect(mode(f)).toBe(0o600);
      } finally {
        store.close();
      }
    } finally {
      process.umask(old);
    }
    expect(mode(path)).toBe(0o600);
    expect(runCli(['migrate'], { KEYWATCH_DB: join(dir, 'cli', 'kw.db') }).code).toBe(0);
    expect(mode(join(dir, 'cli', 'kw.db'))).toBe(0o600);
    expect(mode(join(dir, 'cli', 'keywatch.secret'))).toBe(0o600);
  });

  it('writes the backup 0600 with the secret beside it, or says where the secret is', () => {
    const fileEnv = { KEYWATCH_DB: join(dir, 'cli', 'kw.db'), KEYWATCH_SECRET: '' };
    const backup = join(dir, 'backup.db');
    const r = runCli(['backup', backup], fileEnv);
    expect(r.code).toBe(0);
    expect(mode(backup)).toBe(0o600);
    expect(mode(`${backup}.secret`)).toBe(0o600);
    expect(readFileSync(`${backup}.secret`, 'utf8')).toBe(
      readFileSync(join(dir, 'cli', 'keywatch.secret'), 'utf8'),
    );
    expect(r.stderr).toContain(`${backup}.secret`);
    expect(runCli(['backup', backup], fileEnv).code).toBe(1);

    const fromEnv = join(dir, 'backup-env.db');
    const e = runCli(['backup', fromEnv], env);
    expect(e.code).toBe(0);
    expect(mode(fromEnv)).toBe(0o600);
    expect(() => statSync(`${fromEnv}.secret`)).toThrow();
    expect(e.stderr).toMatch(/secret is not in the backup.*KEYWATCH_SECRET/);
    expect(e.stderr).not.toContain(TEST_SECRET);
  });
});
