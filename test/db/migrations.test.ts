/** Existing databases migrate: incidents from before signals become incidents with one signal each. */

import { spawnSync } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR, makeDatabaseTemplate, openStore } from '../../server/db/client.ts';
import { viewIncident } from '../../server/incidents/view.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A database as the first release left it: only the first migration applied. */
function firstReleaseDb(): string {
  const dir = mkdtempSync(join(tmpdir(), 'keywatch-migrate-'));
  dirs.push(dir);
  const first = join(dir, 'migrations');
  mkdirSync(join(first, 'meta'), { recursive: true });
  const journal = JSON.parse(readFileSync(join(MIGRATIONS_DIR, 'meta/_journal.json'), 'utf8'));
  const entry = journal.entries[0];
  cpSync(join(MIGRATIONS_DIR, `${entry.tag}.sql`), join(first, `${entry.tag}.sql`));
  writeFileSync(join(first, 'meta/_journal.json'), JSON.stringify({ ...journal, entries: [entry] }));
  const path = join(dir, 'keywatch.db');
  const sqlite = new Database(path);
  migrate(drizzle(sqlite), { migrationsFolder: first });
  const now = Date.UTC(2026, 10, 20, 12);
  sqlite
    .prepare(
      `INSERT INTO keys (id, name, provider, status, created_at, updated_at) VALUES ('key_a', 'prod-web', 'magichour', 'active', ?, ?)`,
    )
    .run(now, now);
  const insert = sqlite.prepare(
    `INSERT INTO incidents (id, key_id, kind, severity, state, started_at, last_seen_at, observed, expected, score,
       impact_credits, summary, details, note, feedback, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, 9200, 450, 0.98, 8750, ?, ?, ?, ?, ?, ?)`,
  );
  insert.run(
    'inc_old',
    'key_a',
    'credit_spike',
    'critical',
    'acknowledged',
    now - 3_600_000,
    now,
    'prod-web spent 9,200 credits',
    JSON.stringify({ unit: 'credits' }),
    'looking',
    'expected',
    now,
    now,
  );
  insert.run(
    'inc_budget',
    null,
    'budget_threshold',
    'warning',
    'open',
    now,
    now,
    '80% of budget',
    JSON.stringify({ budget_id: 'bud_1', unit: 'credits' }),
    null,
    null,
    now,
    now,
  );
  sqlite.close();
  return path;
}

describe('migrations', () => {
  it('turn old per-kind incidents into incidents with one signal, keeping states, notes and feedback', async () => {
    const store = openStore(firstReleaseDb());
    try {
      const rows = store.sqlite
        .prepare(
          'SELECT id, subject, state, note, feedback, detected_at, started_at FROM incidents ORDER BY id',
        )
        .all() as {
        id: string;
        subject: string;
        state: string;
        note: string | null;
        feedback: string | null;
        detected_at: number;
        started_at: number;
      }[];
      expect(rows.map((r) => [r.id, r.subject, r.state, r.note, r.feedback])).toEqual([
        ['inc_budget', 'budget:bud_1', 'open', null, null],
        ['inc_old', 'key:key_a', 'acknowledged', 'looking', 'expected'],
      ]);
      const old = rows[1]!;
      expect(old.detected_at - old.started_at).toBe(60_000);
      const view = await viewIncident(
        store.db,
        (await store.db.query.incidents.findFirst({ where: (i, { eq }) => eq(i.id, 'inc_old') }))!,
      );
      expect(view.signals).toEqual([
        expect.objectContaining({
          kind: 'credit_spike',
          severity: 'critical',
          summary: 'prod-web spent 9,200 credits',
        }),
      ]);
    } finally {
      store.close();
    }
  });

  // A start on an empty folder waits for this: no VACUUM, and the file is made unsynced under a
  // temporary name, then linked into place once migrated (one fsync instead of about ten).
  it('create a new database in incremental auto-vacuum mode, every migration task done, no page free', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keywatch-new-db-'));
    try {
      const store = openStore(join(dir, 'new.db'));
      try {
        expect(store.sqlite.pragma('auto_vacuum', { simple: true })).toBe(2);
        expect(store.sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
        expect(store.sqlite.pragma('synchronous', { simple: true })).toBe(1);
        expect(store.sqlite.pragma('freelist_count', { simple: true })).toBe(0);
        expect(store.sqlite.prepare('SELECT name FROM migration_tasks').all()).toEqual([]);
        const journal = JSON.parse(readFileSync(join(MIGRATIONS_DIR, 'meta/_journal.json'), 'utf8'));
        expect(store.sqlite.prepare('SELECT count(*) AS n FROM __drizzle_migrations').get()).toEqual({
          n: journal.entries.length,
        });
        // Nothing of the temporary file is left, and the database is owner-only.
        expect(readdirSync(dir).filter((f) => !/^new\.db(-wal|-shm)?$/.test(f))).toEqual([]);
        expect(statSync(join(dir, 'new.db')).mode & 0o777).toBe(0o600);
      } finally {
        store.close();
      }
      // Opened again, it is the same database: nothing to migrate, its rows kept.
      const again = openStore(join(dir, 'new.db'));
      try {
        expect(again.sqlite.prepare('SELECT count(*) AS n FROM migration_tasks').get()).toEqual({ n: 0 });
      } finally {
        again.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // A process killed while making a database leaves its temporary file (a hard link to the real
  // database, once linked, so the data and its password hashes under a second name).
  it("removes a killed maker's temporary files on the next start, and never a running one's", () => {
    const dir = mkdtempSync(join(tmpdir(), 'keywatch-stray-'));
    dirs.push(dir);
    const path = join(dir, 'k.db');
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    });
    const deadPid = Number(gone.stdout);
    const stray = [`k.db.new-${deadPid}`, `k.db.new-${deadPid}-wal`];
    // Our parent runs (our own pid is the name this process makes the database under).
    const live = `k.db.new-${process.ppid}`;
    const other = ['k.db.new-notes', 'other.db.new-1'];
    for (const name of [...stray, live, ...other]) writeFileSync(join(dir, name), 'x');
    openStore(path).close();
    expect(readdirSync(dir).sort()).toEqual(['k.db', live, ...other].sort());
    // Beside an existing database too: the killed process may have linked it already.
    writeFileSync(join(dir, stray[0]!), 'x');
    openStore(path).close();
    expect(readdirSync(dir)).not.toContain(stray[0]);
  });

  describe("the build's template", () => {
    const schemaOf = (path: string, template: string | null) => {
      const store = openStore(path, { template });
      try {
        return {
          objects: store.sqlite
            .prepare("SELECT type, name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY name")
            .all(),
          migrations: store.sqlite
            .prepare('SELECT hash, created_at FROM __drizzle_migrations ORDER BY id')
            .all(),
          modes: [
            store.sqlite.pragma('journal_mode', { simple: true }),
            store.sqlite.pragma('auto_vacuum', { simple: true }),
          ],
          tasks: store.sqlite.prepare('SELECT count(*) AS n FROM migration_tasks').get(),
        };
      } finally {
        store.close();
      }
    };

    it('makes a new database that is the one migrating from nothing makes', () => {
      const dir = mkdtempSync(join(tmpdir(), 'keywatch-template-'));
      dirs.push(dir);
      const template = join(dir, 'empty.db');
      makeDatabaseTemplate(template);
      const copied = schemaOf(join(dir, 'copied.db'), template);
      expect(copied).toEqual(schemaOf(join(dir, 'migrated.db'), null));
      expect(copied.migrations.length).toBeGreaterThan(10);
      expect(statSync(join(dir, 'copied.db')).mode & 0o777).toBe(0o600);
    });

    it('is not used when it holds a migration this checkout does not have (a build of another branch)', () => {
      const dir = mkdtempSync(join(tmpdir(), 'keywatch-template-'));
      dirs.push(dir);
      const template = join(dir, 'empty.db');
      makeDatabaseTemplate(template);
      const other = new Database(template);
      other.exec(
        "CREATE TABLE from_another_branch (x INTEGER); INSERT INTO __drizzle_migrations (hash, created_at) VALUES ('not-ours', 1)",
      );
      other.close();
      const made = openStore(join(dir, 'new.db'), { template });
      try {
        expect(
          made.sqlite.prepare("SELECT name FROM sqlite_schema WHERE name = 'from_another_branch'").all(),
        ).toEqual([]);
        expect(
          made.sqlite.prepare("SELECT count(*) AS n FROM __drizzle_migrations WHERE hash = 'not-ours'").get(),
        ).toEqual({ n: 0 });
      } finally {
        made.close();
      }
    });
  });
});
