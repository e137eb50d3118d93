/**
 * Migration 0004 on a database that has data: the rowid bucket tables are copied into WITHOUT
 * ROWID tables, totals and key networks are filled, progress goes to the reporter; and the hot
 * queries read the tables through their keys (EXPLAIN QUERY PLAN), never a full scan.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { afterEach, describe, expect, it } from 'vitest';
import { DAY, HOUR } from '../../server/clock.ts';
import { MIGRATIONS_DIR, openStore } from '../../server/db/client.ts';
import { statement } from '../../server/db/statements.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A database migrated only up to `upTo` (exclusive), from a copy of the committed migrations. */
function databaseBefore(tag: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'keywatch-mig-'));
  dirs.push(dir);
  const folder = join(dir, 'migrations');
  cpSync(MIGRATIONS_DIR, folder, { recursive: true });
  const journalPath = join(folder, 'meta/_journal.json');
  const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: { tag: string }[] };
  journal.entries = journal.entries.slice(
    0,
    journal.entries.findIndex((e) => e.tag === tag),
  );
  writeFileSync(journalPath, JSON.stringify(journal));
  const path = join(dir, 'keywatch.db');
  const sqlite = new Database(path);
  migrate(drizzle(sqlite), { migrationsFolder: folder });
  const T = Date.UTC(2026, 10, 1);
  sqlite
    .prepare(
      `INSERT INTO keys (id, name, status, created_at, updated_at) VALUES ('k1', 'one', 'active', 0, 0), ('k2', 'two', 'active', 0, 0)`,
    )
    .run();
  for (const [table, step] of [
    ['usage_minute', 60_000],
    ['usage_hour', HOUR],
    ['usage_day', DAY],
  ] as const) {
    const insert = sqlite.prepare(
      `INSERT INTO ${table} (key_id, bucket, operation, credits, requests, errors, auth_failures) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    for (let i = 0; i < 120; i++) {
      insert.run(
        i % 2 ? 'k1' : 'k2',
        T + Math.floor(i / 4) * step,
        i % 4 < 2 ? 'face-swap' : '',
        10 + i,
        1,
        i % 3 === 0 ? 1 : 0,
        0,
      );
    }
  }
  const event = sqlite.prepare(
    `INSERT INTO usage_events (source, event_id, key_id, ts, credits, requests, status, operation, source_ip, received_at)
     VALUES ('push', ?, ?, ?, 1, 1, 200, 'face-swap', ?, 0)`,
  );
  event.run('e1', 'k1', T, '203.0.113.7');
  event.run('e2', 'k1', T + HOUR, '203.0.113.200');
  event.run('e3', 'k1', T + 2 * HOUR, '198.51.100.1');
  event.run('e4', 'k2', T, '2001:db8:1:2::5');
  sqlite.close();
  return path;
}

describe('migration 0004: bucket tables without rowid', () => {
  it('copies every row, fills the totals and key networks, and says how far it got', () => {
    const path = databaseBefore('0004_bucket_tables_without_rowid');
    const before = new Database(path, { readonly: true });
    const sums = (db: Database.Database, table: string) =>
      db.prepare(`SELECT count(*) AS n, sum(credits) AS c, sum(errors) AS e FROM ${table}`).get() as {
        n: number;
        c: number;
        e: number;
      };
    const expected = Object.fromEntries(
      ['usage_minute', 'usage_hour', 'usage_day'].map((t) => [t, sums(before, t)]),
    );
    before.close();

    const lines: string[] = [];
    const store = openStore(path, { progress: (l) => lines.push(l) });
    try {
      for (const table of ['usage_minute', 'usage_hour', 'usage_day']) {
        const sql = store.sqlite
          .prepare(`SELECT sql FROM sqlite_master WHERE name = ?`)
          .pluck()
          .get(table) as string;
        expect(sql).toMatch(/WITHOUT ROWID/);
        expect(sums(store.sqlite, table)).toEqual(expected[table]);
        // One row per bucket in the totals, adding up to the same sums.
        const total = sums(store.sqlite, `${table}_total`);
        expect(total.c).toBe(expected[table]!.c);
        expect(total.e).toBe(expected[table]!.e);
        expect(total.n).toBe(30);
        expect(lines).toContain(`migrating ${table}: starting (1 MB to rewrite)`);
        expect(lines.some((l) => l.startsWith(`migrating ${table}: done in`))).toBe(true);
      }
      // The month rollup is the day rows summed by UTC calendar month.
      const month = sums(store.sqlite, 'usage_month');
      expect(month.c).toBe(expected.usage_day!.c);
      expect(month.e).toBe(expected.usage_day!.e);
      // The per-key day and month sums (migration 0007, run before this copy) are filled from it.
      for (const table of ['usage_key_day', 'usage_key_month']) {
        const keyTotals = sums(store.sqlite, table);
        expect(keyTotals.c).toBe(expected.usage_day!.c);
        expect(keyTotals.e).toBe(expected.usage_day!.e);
      }
      const operations = sums(store.sqlite, 'usage_operation_day');
      expect(operations.c).toBe(expected.usage_day!.c);
      expect(operations.e).toBe(expected.usage_day!.e);
      expect(sums(store.sqlite, 'usage_key_day').n).toBe(
        store.sqlite
          .prepare('SELECT count(*) FROM (SELECT DISTINCT key_id, bucket FROM usage_day)')
          .pluck()
          .get(),
      );
      const networks = store.sqlite
        .prepare('SELECT key_id, network, requests FROM key_networks ORDER BY key_id, network')
        .all();
      expect(networks).toEqual([
        { key_id: 'k1', network: '198.51.100.0/24', requests: 1 },
        { key_id: 'k1', network: '203.0.113.0/24', requests: 2 },
        { key_id: 'k2', network: '2001:db8:1:2::/64', requests: 1 },
      ]);
      // Migration 0008: each key's callers per day, from the same raw events.
      expect(
        store.sqlite
          .prepare(`SELECT key_id, day, value, requests FROM key_clients WHERE kind = 'ip' ORDER BY 1, 2, 3`)
          .all(),
      ).toEqual(
        store.sqlite
          .prepare(
            `SELECT key_id, (ts / 86400000) * 86400000 AS day, source_ip AS value, sum(requests) AS requests
               FROM usage_events GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
          )
          .all(),
      );
      expect(
        store.sqlite.prepare(`SELECT DISTINCT value FROM key_clients WHERE kind = 'ua'`).pluck().all(),
      ).toEqual(['']);
      expect(store.sqlite.prepare('SELECT count(*) FROM migration_tasks').pluck().get()).toBe(0);
      const leftovers = store.sqlite
        .prepare(`SELECT name FROM sqlite_master WHERE name LIKE '%_rowid'`)
        .pluck()
        .all();
      expect(leftovers).toEqual([]);
    } finally {
      store.close();
    }
    // A second start has nothing left to do and says nothing.
    const again: string[] = [];
    openStore(path, { progress: (l) => again.push(l) }).close();
    expect(again).toEqual([]);
  });
});

describe('hot queries use the keys of their tables', () => {
  const plan = (sql: string, ...params: unknown[]) => {
    const dir = mkdtempSync(join(tmpdir(), 'keywatch-plan-'));
    dirs.push(dir);
    const store = openStore(join(dir, 'k.db'));
    try {
      return (statement(store.sqlite, `EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[])
        .map((r) => r.detail)
        .join('\n');
    } finally {
      store.close();
    }
  };

  it("one key's series is a range of the primary key", () => {
    expect(
      plan(
        'SELECT bucket, sum(credits) FROM usage_hour WHERE key_id = ? AND bucket >= ? AND bucket < ? GROUP BY bucket ORDER BY bucket',
        'k',
        0,
        1,
      ),
    ).toMatch(/SEARCH usage_hour USING PRIMARY KEY \(key_id=\? AND bucket>\? AND bucket<\?\)/);
  });

  it('the chosen groups of a grouped series are ranges of the primary key, key by key', () => {
    expect(
      plan(
        `SELECT key_id, bucket, sum(credits) FROM usage_day
           WHERE key_id IN (SELECT value FROM json_each(?)) AND bucket >= ? AND bucket < ? GROUP BY key_id, bucket`,
        '[]',
        0,
        1,
      ),
    ).toMatch(/SEARCH usage_day USING PRIMARY KEY \(key_id=\? AND bucket>\? AND bucket<\?\)/);
  });

  it('whole-account series and forecasts read the totals by bucket', () => {
    for (const table of ['usage_minute_total', 'usage_hour_total', 'usage_day_total']) {
      expect(plan(`SELECT * FROM ${table} WHERE bucket >= ? AND bucket < ? ORDER BY bucket`, 0, 1)).toMatch(
        new RegExp(`SEARCH ${table} USING INTEGER PRIMARY KEY \\(rowid>\\? AND rowid<\\?\\)`),
      );
    }
  });

  it('ranking keys over a range and retention seek key by key: minutes and hours keep no bucket index', () => {
    expect(
      plan(
        `SELECT key_id, sum(credits) FROM usage_hour
           WHERE key_id IN (SELECT id FROM keys) AND bucket >= ? AND bucket < ? GROUP BY key_id`,
        0,
        1,
      ),
    ).toMatch(/SEARCH usage_hour USING PRIMARY KEY \(key_id=\? AND bucket>\? AND bucket<\?\)/);
    expect(
      plan(
        `DELETE FROM usage_minute WHERE (key_id, bucket, operation) IN
           (SELECT key_id, bucket, operation FROM usage_minute WHERE key_id = ? AND bucket < ? LIMIT 5000)`,
        'k',
        0,
      ),
    ).toMatch(/SEARCH usage_minute USING PRIMARY KEY \(key_id=\? AND bucket<\?\)/);
  });

  it('keeps a bucket index on months only (a dozen rows per key a year), and projects by creation only', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keywatch-plan-'));
    dirs.push(dir);
    const store = openStore(join(dir, 'k.db'));
    try {
      const indexes = store.sqlite
        .prepare(
          `SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN
             ('usage_minute', 'usage_hour', 'usage_day', 'usage_month', 'projects') AND sql IS NOT NULL ORDER BY name`,
        )
        .pluck()
        .all();
      expect(indexes).toEqual(['projects_created_idx', 'usage_month_bucket_idx']);
    } finally {
      store.close();
    }
  });

  it('projects are read by id and expired by creation, with no index by key', () => {
    expect(plan('SELECT final_credits FROM projects WHERE id = ?', 'p')).toMatch(
      /SEARCH projects USING INDEX sqlite_autoindex_projects_1 \(id=\?\)/,
    );
    expect(
      plan(
        'DELETE FROM projects WHERE rowid IN (SELECT rowid FROM projects WHERE created_at < ? LIMIT 5000)',
        0,
      ),
    ).toMatch(/projects USING COVERING INDEX projects_created_idx \(created_at<\?\)/);
  });

  it("the keys page's network flag reads key_networks only, and its retention the last-seen index", () => {
    const flag = plan(
      'SELECT key_id, count(DISTINCT network) FROM key_networks WHERE last_seen_at >= ? GROUP BY key_id',
      0,
    );
    expect(flag).toMatch(/key_networks/);
    expect(flag).not.toMatch(/usage_events/);
    expect(
      plan(
        `DELETE FROM key_networks WHERE (key_id, network) IN
           (SELECT key_id, network FROM key_networks WHERE last_seen_at < ? LIMIT 5000)`,
        0,
      ),
    ).toMatch(/key_networks USING (COVERING )?INDEX key_networks_last_seen_idx \(last_seen_at<\?\)/);
  });
});
