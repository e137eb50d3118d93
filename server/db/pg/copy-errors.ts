/**
 * How `keywatch storage migrate` (copy-from-sqlite.ts) fails, in a module of their own: the CLI
 * tells these failures apart on every run, and importing them from the copy would build the whole
 * PostgreSQL schema while any command, `serve` on SQLite included, starts.
 */
export class TargetNotEmptyError extends Error {}
export class CopyMismatchError extends Error {}
/** A table's rows could not be written (a value PostgreSQL refuses, a broken reference...). */
export class CopyFailedError extends Error {}
