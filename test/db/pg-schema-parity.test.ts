/**
 * The PostgreSQL schema (server/db/pg/schema) mirrors the SQLite one table by table: same tables,
 * same columns (name, nullability, primary key, default, a compatible type), same unique and
 * foreign keys, same indexes, and nothing extra. A column, index or table added to one side only
 * makes the first test list it; the last tests show the comparison sees such a difference.
 */
import { is } from 'drizzle-orm';
import {
  PgTable,
  bigint as pgBigint,
  getTableConfig as pgConfig,
  pgTable,
  text as pgText,
} from 'drizzle-orm/pg-core';
import {
  SQLiteTable,
  getTableConfig as sqliteConfig,
  integer as sqliteInteger,
  sqliteTable,
  text as sqliteText,
} from 'drizzle-orm/sqlite-core';
import { describe, expect, it } from 'vitest';
import * as pgSchema from '../../server/db/pg/schema/index.ts';
import * as sqliteSchema from '../../server/db/schema/index.ts';

/** What a PostgreSQL column may be for each SQLite column type. */
const COMPATIBLE: Record<string, string[]> = {
  // Epoch ms and counts (bigint), small numbers such as HTTP statuses and ids of one-row tables (integer).
  SQLiteInteger: ['PgBigInt53', 'PgInteger'],
  SQLiteBoolean: ['PgBoolean'],
  SQLiteReal: ['PgDoublePrecision'],
  // Plain text, or JSON kept as text by SQLite and as jsonb by PostgreSQL.
  SQLiteText: ['PgText', 'PgJsonb'],
};

type Column = {
  name: string;
  columnType: string;
  notNull: boolean;
  primary: boolean;
  isUnique: boolean;
  default?: unknown;
  enumValues?: string[] | undefined;
};

type Shape = {
  columns: Record<
    string,
    {
      type: string;
      notNull: boolean;
      primary: boolean;
      unique: boolean;
      default: unknown;
      enum: string[] | null;
      serial: boolean;
    }
  >;
  primaryKey: string[][];
  indexes: string[];
  foreignKeys: string[];
};

/** A JSON text default in SQLite ('{}') and its jsonb default in PostgreSQL ({}) are the same default. */
function normalDefault(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    const parsed = JSON.parse(value) as unknown;
    return typeof parsed === 'object' ? parsed : value;
  } catch {
    return value;
  }
}

function columnShape(c: Column, serial: boolean) {
  return {
    type: c.columnType,
    notNull: c.notNull,
    primary: c.primary,
    unique: c.isUnique,
    default: normalDefault(c.default),
    enum: c.enumValues?.length ? [...c.enumValues] : null,
    serial,
  };
}

function sqliteShape(table: SQLiteTable): Shape {
  const t = sqliteConfig(table);
  return {
    columns: Object.fromEntries(
      t.columns.map((c) => [
        c.name,
        columnShape(c, (c as { autoIncrement?: boolean }).autoIncrement === true),
      ]),
    ),
    primaryKey: t.primaryKeys.map((k) => k.columns.map((c) => c.name)),
    indexes: t.indexes
      .map(
        (i) =>
          `${i.config.name}(${i.config.columns.map((c) => (c as { name: string }).name).join(',')})${i.config.unique ? ' unique' : ''}`,
      )
      .sort(),
    foreignKeys: t.foreignKeys
      .map((f) => {
        const r = f.reference();
        return `${r.columns.map((c) => c.name).join(',')} -> ${sqliteConfig(r.foreignTable).name}(${r.foreignColumns.map((c) => c.name).join(',')}) on delete ${f.onDelete ?? 'no action'}`;
      })
      .sort(),
  };
}

function pgShape(table: PgTable): Shape {
  const t = pgConfig(table);
  return {
    columns: Object.fromEntries(
      t.columns.map((c) => [c.name, columnShape(c, c.generatedIdentity !== undefined)]),
    ),
    primaryKey: t.primaryKeys.map((k) => k.columns.map((c) => c.name)),
    indexes: t.indexes
      .map(
        (i) =>
          `${i.config.name}(${i.config.columns.map((c) => (c as { name: string }).name).join(',')})${i.config.unique ? ' unique' : ''}`,
      )
      .sort(),
    foreignKeys: t.foreignKeys
      .map((f) => {
        const r = f.reference();
        return `${r.columns.map((c) => c.name).join(',')} -> ${pgConfig(r.foreignTable).name}(${r.foreignColumns.map((c) => c.name).join(',')}) on delete ${f.onDelete ?? 'no action'}`;
      })
      .sort(),
  };
}

/** Every difference between the two dialects' tables, one line each; empty when they mirror. */
function differences(sqlite: SQLiteTable[], pg: PgTable[]): string[] {
  const out: string[] = [];
  const s = new Map(sqlite.map((t) => [sqliteConfig(t).name, sqliteShape(t)]));
  const p = new Map(pg.map((t) => [pgConfig(t).name, pgShape(t)]));
  for (const name of s.keys()) if (!p.has(name)) out.push(`${name}: no PostgreSQL table`);
  for (const name of p.keys()) if (!s.has(name)) out.push(`${name}: no SQLite table`);
  for (const [name, a] of s) {
    const b = p.get(name);
    if (!b) continue;
    for (const col of Object.keys(a.columns))
      if (!b.columns[col]) out.push(`${name}.${col}: missing in PostgreSQL`);
    for (const col of Object.keys(b.columns))
      if (!a.columns[col]) out.push(`${name}.${col}: missing in SQLite`);
    for (const [col, x] of Object.entries(a.columns)) {
      const y = b.columns[col];
      if (!y) continue;
      if (!COMPATIBLE[x.type]?.includes(y.type))
        out.push(`${name}.${col}: ${x.type} is not compatible with ${y.type}`);
      for (const k of ['notNull', 'primary', 'unique', 'serial'] as const)
        if (x[k] !== y[k]) out.push(`${name}.${col}: ${k} ${x[k]} in SQLite, ${y[k]} in PostgreSQL`);
      if (JSON.stringify(x.default) !== JSON.stringify(y.default))
        out.push(
          `${name}.${col}: default ${JSON.stringify(x.default)} in SQLite, ${JSON.stringify(y.default)} in PostgreSQL`,
        );
      if (JSON.stringify(x.enum) !== JSON.stringify(y.enum)) out.push(`${name}.${col}: enum values differ`);
    }
    for (const k of ['primaryKey', 'indexes', 'foreignKeys'] as const)
      if (JSON.stringify(a[k]) !== JSON.stringify(b[k]))
        out.push(`${name}: ${k} ${JSON.stringify(a[k])} in SQLite, ${JSON.stringify(b[k])} in PostgreSQL`);
  }
  return out;
}

const sqliteTables = (Object.values(sqliteSchema) as unknown[]).filter((v): v is SQLiteTable =>
  is(v, SQLiteTable),
);
const pgTables = (Object.values(pgSchema) as unknown[]).filter((v): v is PgTable => is(v, PgTable));

describe('PostgreSQL schema parity', () => {
  it('mirrors every SQLite table, column, key and index, and adds none', () => {
    expect(sqliteTables.length).toBeGreaterThan(20);
    expect(differences(sqliteTables, pgTables)).toEqual([]);
  });

  it('stores JSON text as jsonb, integer booleans as boolean, and autoincrement ids as identities', () => {
    const types = (t: PgTable) => Object.fromEntries(pgConfig(t).columns.map((c) => [c.name, c.columnType]));
    expect(types(pgSchema.incidents).signals).toBe('PgJsonb');
    expect(types(pgSchema.budgets).notify_forecast).toBe('PgBoolean');
    expect(pgConfig(pgSchema.users).columns.find((c) => c.name === 'id')?.generatedIdentity).toEqual({
      type: 'byDefault',
    });
    // The raw webhook body stays byte for byte (jsonb would reformat it).
    expect(types(pgSchema.webhookEvents).body).toBe('PgText');
  });

  // The checks above pass only because the schemas agree: these show the comparison would fail
  // the first test when a column (or a table) exists on one side only.
  it('reports a column added to one side only', () => {
    const s = sqliteTable('t', { id: sqliteText('id').primaryKey(), at: sqliteInteger('at').notNull() });
    const p = pgTable('t', { id: pgText('id').primaryKey() });
    expect(differences([s], [p])).toEqual(['t.at: missing in PostgreSQL']);
    const p2 = pgTable('t', {
      id: pgText('id').primaryKey(),
      at: pgBigint('at', { mode: 'number' }).notNull(),
      extra: pgText('extra'),
    });
    expect(differences([s], [p2])).toEqual(['t.extra: missing in SQLite']);
  });

  it('reports a table, a nullability or an incompatible type that differs', () => {
    const s = sqliteTable('t', { id: sqliteText('id').primaryKey(), at: sqliteInteger('at').notNull() });
    const p = pgTable('t', { id: pgText('id').primaryKey(), at: pgText('at') });
    expect(differences([s], [p])).toEqual([
      't.at: SQLiteInteger is not compatible with PgText',
      't.at: notNull true in SQLite, false in PostgreSQL',
    ]);
    expect(differences([s], [])).toEqual(['t: no PostgreSQL table']);
  });
});
