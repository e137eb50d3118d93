/** What every command module shares: argument parsers, stderr lines, and running with an open database. */
import { InvalidArgumentError } from 'commander';
import type { Deps } from '../deps.ts';
import { TimestampSchema } from '../timestamps.ts';

export type WithDeps = <T>(fn: (deps: Deps) => Promise<T> | T) => Promise<T>;

/** Messages go to stderr so that stdout carries only results. */
export const err = (line: string) => process.stderr.write(`${line}\n`);

export function positiveInt(max: number) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > max)
      throw new InvalidArgumentError(`must be a whole number from 1 to ${max}.`);
    return n;
  };
}

export function timestamp(value: string): number {
  const parsed = TimestampSchema.safeParse(value);
  if (!parsed.success) throw new InvalidArgumentError(parsed.error.issues[0]?.message ?? 'invalid timestamp');
  return parsed.data;
}

/** Prints rows as a plain table (header, then one line per row), or `empty` when there are none. */
export function printTable(rows: Record<string, string>[], empty: string): void {
  if (rows.length === 0) {
    err(empty);
    return;
  }
  const cols = Object.keys(rows[0]!);
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(width[i]!))
      .join('  ')
      .trimEnd();
  const out = [line(cols.map((c) => c.toUpperCase())), ...rows.map((r) => line(cols.map((c) => r[c] ?? '')))];
  process.stdout.write(`${out.join('\n')}\n`);
}

/** Prints `rows` as a JSON array (`--json`) or as the table `toRow` describes. */
export function printList<T>(
  rows: T[],
  opts: { json?: boolean },
  toRow: (row: T) => Record<string, string>,
  empty: string,
): void {
  if (opts.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
  else printTable(rows.map(toRow), empty);
}

/** A timestamp for a table cell: ISO without milliseconds, or '-' for never. */
export const when = (iso: string | null | undefined) => (iso ? iso.replace(/\.\d{3}Z$/, 'Z') : '-');

/** Storage error codes (SQLite and file system) and what to tell the operator about each. */
const STORAGE_FAULTS: [RegExp, (path: string) => string][] = [
  [
    /^(SQLITE_READONLY|EROFS)/,
    (p) =>
      `the database KEYWATCH_DB=${p} cannot be written (read-only): give this user write permission on the file and its directory (SQLite writes -wal and -shm files beside it), or point KEYWATCH_DB at a writable path.`,
  ],
  [
    /^(SQLITE_FULL|ENOSPC|EDQUOT)/,
    (p) =>
      `the disk holding the database KEYWATCH_DB=${p} is full: free some space there (or move the database to a larger disk and point KEYWATCH_DB at it).`,
  ],
  [
    /^(SQLITE_NOTADB|SQLITE_CORRUPT)/,
    (p) =>
      `the file KEYWATCH_DB=${p} is not a Keywatch database (or is damaged): point KEYWATCH_DB at the right file, or restore it from a backup.`,
  ],
  [
    /^(SQLITE_CANTOPEN|SQLITE_IOERR|SQLITE_PERM|ENOTDIR|EEXIST|ENOENT|EACCES|EPERM|EISDIR)/,
    (p) =>
      `cannot open the database KEYWATCH_DB=${p}: check that its directory exists, is a directory and is writable by this user, or point KEYWATCH_DB at another path.`,
  ],
];

/**
 * One sentence for an error the database file or its directory caused, or undefined for any other
 * error. File-system codes count only while opening (`opening`): later they belong to other files.
 */
export function storageFault(e: unknown, dbPath: string, opening = false): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  // A file-system error about the database path or a folder above it (`serve` opening the store).
  const fsPath = (e as { path?: unknown }).path;
  const aboutDb = typeof fsPath === 'string' && (dbPath === fsPath || dbPath.startsWith(`${fsPath}/`));
  if (typeof code !== 'string' || !(opening || aboutDb || code.startsWith('SQLITE_'))) return undefined;
  return STORAGE_FAULTS.find(([re]) => re.test(code))?.[1](dbPath);
}

/** The database could not be opened or written: one sentence for the operator, no stack trace. */
export class StorageFault extends Error {}
