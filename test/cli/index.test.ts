import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'keywatch-cli-'));
const env = { KEYWATCH_DB: join(dir, 'kw.db') };
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('keywatch CLI', () => {
  it('prints help for the program and each command', () => {
    const top = runCli(['--help']);
    expect(top.code).toBe(0);
    for (const cmd of ['serve', 'migrate', 'user', 'token', 'simulate', 'backup'])
      expect(top.stdout).toContain(cmd);
    const sim = runCli(['simulate', '--help']);
    expect(sim.code).toBe(0);
    expect(sim.stdout).toContain('--incidents');
  });

  it('creates a token and prints it alone on stdout, storing only its hash', () => {
    const r = runCli(['token', 'create', '--name', 'shipper', '--scope', 'ingest'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^kw_[\w-]{30,}\n$/);
    expect(r.stderr).toContain('shipper');
    const token = r.stdout.trim();
    const db = new Database(env.KEYWATCH_DB, { readonly: true });
    const rows = db.prepare('SELECT * FROM api_tokens').all();
    db.close();
    expect(JSON.stringify(rows)).not.toContain(token);
    expect(rows).toHaveLength(1);
  });

  it('adds a user with a generated password printed alone on stdout', () => {
    const r = runCli(['user', 'add', '--email', 'Ops@Example.com', '--role', 'admin'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\S{16,}\n$/);
    const again = runCli(['user', 'add', '--email', 'ops@example.com', '--role', 'viewer'], env);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/already exists/);
    expect(again.stdout).toBe('');
  });

  it('prints its version, and exits 2 on a usage error', () => {
    const version = runCli(['--version'], env);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version);
    const unknown = runCli(['--bogus'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown option/);
    const missing = runCli(['user', 'add'], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--email/);
    // No command at all: the help, on stderr, and a usage error's exit.
    const none = runCli([], env);
    expect(none.code).toBe(2);
    expect(none.stdout).toBe('');
    expect(none.stderr).toMatch(/Usage: keywatch/);
  });

  it('exits 2 on a bad option value, and 1 with one clear line on a file it cannot read', () => {
    const scope = runCli(['token', 'create', '--name', 'x', '--scope', 'read,root'], env);
    expect(scope.code).toBe(2);
    expect(scope.stderr).toMatch(/--scope/);
    expect(scope.stdout).toBe('');
    const missing = join(dir, 'no-such.csv');
    for (const args of [
      ['detect', 'series', '--input', missing],
      ['backup', join(dir, 'no-such-dir', 'copy.db')],
      ['simulate', '--days', '1', '--keys', '1', '--out', join(dir, 'no-such-dir', 'x.jsonl')],
    ]) {
      const r = runCli(args, env);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^keywatch: .*no such file or directory/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('exits 2 on a malformed --map of import csv, and stores nothing', () => {
    const file = join(dir, 'history.csv');
    writeFileSync(file, 'timestamp,api_key,cost\n2026-11-20T10:00:00Z,csv-key,5\n');
    const r = runCli(['import', 'csv', file, '--map', 'garbage'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--map/);
    expect(r.stderr).toMatch(/field=column/);
    const keys = runCli(['keys', 'list', '--json'], env);
    expect(JSON.parse(keys.stdout).map((k: { name: string }) => k.name)).not.toContain('csv-key');
  });

  it('exits 2 when simulate is given both --out and --ingest, writing nothing', () => {
    const out = join(dir, 'both.jsonl');
    const r = runCli(['simulate', '--days', '1', '--keys', '1', '--out', out, '--ingest'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--ingest/);
    expect(r.stderr).toMatch(/--out/);
    expect(() => readFileSync(out)).toThrow();
  });

  it('reads settings from ./.env, and the environment wins over the file', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'keywatch-env-'));
    try {
      writeFileSync(join(cwd, '.env'), 'KEYWATCH_TZ=Mars/Olympus\n');
      const fromFile = runCli(['migrate'], { KEYWATCH_DB: join(cwd, 'k.db') }, undefined, cwd);
      expect(fromFile.code).toBe(1);
      expect(fromFile.stderr).toMatch(/KEYWATCH_TZ/);
      const overridden = runCli(
        ['migrate'],
        { KEYWATCH_DB: join(cwd, 'k.db'), KEYWATCH_TZ: 'UTC' },
        undefined,
        cwd,
      );
      expect(overridden.code).toBe(0);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it('fails clearly on bad input', () => {
    const scope = runCli(['token', 'create', '--name', 'x', '--scope', 'root'], env);
    expect(scope.code).not.toBe(0);
    expect(scope.stderr).toMatch(/scopes/);
    const role = runCli(['user', 'add', '--email', 'a@b.co', '--role', 'god'], env);
    expect(role.code).not.toBe(0);
    expect(role.stderr).toMatch(/role/);
    const unknown = runCli(['frobnicate'], env);
    expect(unknown.code).not.toBe(0);
    const badEnv = runCli(['migrate'], { ...env, PORT: 'eighty' });
    expect(badEnv.code).not.toBe(0);
    expect(badEnv.stderr).toMatch(/PORT/);
  });

  it('simulates deterministically and writes labels beside the events', () => {
    const out = join(dir, 'sim.jsonl');
    const args = [
      'simulate',
      '--days',
      '15',
      '--keys',
      '5',
      '--seed',
      '7',
      '--end',
      '2026-11-01T00:00:00Z',
      '--incidents',
    ];
    const a = runCli([...args, '--out', out]);
    expect(a.code).toBe(0);
    const first = readFileSync(out, 'utf8');
    const b = runCli([...args, '--out', out]);
    expect(b.code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(first);
    const lines = first
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThan(1000);
    expect(lines[0]).toMatchObject({
      id: expect.any(String),
      key: expect.any(String),
      credits: expect.any(Number),
    });
    const labels = JSON.parse(readFileSync(`${out}.labels.json`, 'utf8'));
    expect(labels.incidents.map((i: { kind: string }) => i.kind)).toEqual(
      expect.arrayContaining([
        'credit_spike',
        'sustained_elevation',
        'off_hours',
        'dormant_wake',
        'revoked_use',
      ]),
    );
  });

  it('ingests a simulation and backs the database up', () => {
    const r = runCli(['simulate', '--days', '3', '--keys', '3', '--ingest'], env);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/Ingested \d+ events for 3 keys/);
    const backup = join(dir, 'backup.db');
    expect(runCli(['backup', backup], env).code).toBe(0);
    const db = new Database(backup, { readonly: true });
    const n = (db.prepare('SELECT count(*) AS n FROM usage_events').get() as { n: number }).n;
    db.close();
    expect(n).toBeGreaterThan(0);
    const again = runCli(['backup', backup], env);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/already exists/);
  });
});
