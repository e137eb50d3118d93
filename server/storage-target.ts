/**
 * KEYWATCH_DB as a storage target: which database, where, and how to name it in a message without
 * its password. Read by the configuration, the CLI's storage commands and the threads that open it.
 */
import { resolve } from 'node:path';
import { ConfigError } from './config-error.ts';

/**
 * Where the data lives: a SQLite file (the default) or a PostgreSQL database (`postgres://` or
 * `postgresql://`), which `migrate-storage` can fill from a SQLite file. `display` is the URL
 * without its password, for messages and logs.
 */
export type StorageTarget =
  | { kind: 'sqlite'; path: string }
  | { kind: 'postgres'; url: string; display: string };

/** The database path KEYWATCH_DB names (absolute), for messages about it even when the rest is invalid. */
export function configuredDbPath(env: NodeJS.ProcessEnv = process.env): string {
  const value = env.KEYWATCH_DB || './data/keywatch.db';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return redactDatabaseUrl(value);
  return value === ':memory:' ? value : resolve(value);
}

/**
 * A `postgres://` or `postgresql://` URL is PostgreSQL (checked here: host, database, port); any other
 * `scheme://` value would otherwise be opened as a SQLite file of that odd name in the working
 * directory, and is refused. A URL is never echoed with its password.
 */
export function parseStorage(value: string): StorageTarget {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value)?.[1];
  if (!scheme) return { kind: 'sqlite', path: value === ':memory:' ? value : resolve(value) };
  if (!/^postgres(ql)?$/i.test(scheme)) {
    throw new ConfigError(
      `Invalid KEYWATCH_DB: a ${scheme}:// URL is not a storage Keywatch knows; set KEYWATCH_DB to a SQLite file path such as ./data/keywatch.db, or a postgres://user:password@host:5432/database URL.`,
    );
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(
      `Invalid KEYWATCH_DB: not a well-formed PostgreSQL URL (got ${redactDatabaseUrl(value)}); write it as postgres://user:password@host:5432/database, with special characters in the password percent-encoded.`,
    );
  }
  const display = redactDatabaseUrl(value);
  let database = '';
  try {
    database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  } catch {
    // A stray % in the path: reported below as naming no database.
  }
  const problem = !url.hostname
    ? 'it names no host'
    : !database || database.includes('/')
      ? 'it names no database (the path after the host, as in /keywatch)'
      : url.port !== '' && (Number(url.port) < 1 || Number(url.port) > 65535)
        ? 'its port is not from 1 to 65535'
        : undefined;
  if (problem) {
    throw new ConfigError(
      `Invalid KEYWATCH_DB: ${problem} (got ${display}); write it as postgres://user:password@host:5432/database.`,
    );
  }
  return { kind: 'postgres', url: value, display };
}

/** A database URL with its password replaced by ***, for messages (also when the URL is malformed). */
export function redactDatabaseUrl(value: string): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)(.*)$/is.exec(value);
  if (!m) return value;
  const [, scheme, rest] = m as unknown as [string, string, string];
  // Up to the LAST @: an unencoded @ or / in a password must not leave part of it showing.
  const at = rest.lastIndexOf('@');
  const colon = at < 0 ? -1 : rest.slice(0, at).indexOf(':');
  const hidden = colon < 0 ? value : `${scheme}${rest.slice(0, colon)}:***${rest.slice(at)}`;
  return hidden.replace(/([?&]password=)[^&#]*/i, '$1***');
}

/** Limits that only make sense together. */
