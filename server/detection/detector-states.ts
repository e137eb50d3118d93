/**
 * The stored detector states (detector_state) and the in-memory copy a runner keeps between runs.
 *
 * Every key with history is stepped every minute, so its state changes every minute; writing all
 * of them each tick (JSON of ~8 KB per key) was most of a live minute's cost. Instead the runner
 * keeps the states in memory and writes a key's state at most every WRITE_EVERY (staggered by key,
 * so each tick writes about a tenth of them), each row with its own `evaluated_until`. A state
 * read back behind the cursor (after a crash) is brought up to it by replaying its own minutes,
 * which the detectors judged already (see catchUpStates in run-detection.ts). The account row
 * (key_id '') holds the cursor and is written on every run.
 *
 * JSON stays the stored form: measured on real states, a float64 packing of the numeric arrays was
 * larger (10.4 KB vs 8.1 KB, since most values are small integers) and decoded slower.
 */
import { sql } from 'drizzle-orm';
import { MINUTE } from '../clock.ts';
import type { Db } from '../db/client.ts';
import { execute, rows } from '../db/transaction.ts';
import { type AccountState, createAccountState } from './core/account.ts';
import type { KeyState } from './core/state.ts';
import type { ReplayState } from './replay.ts';

export const ACCOUNT = '';
/** A key's stored state is never further behind the cursor than this. */
export const WRITE_EVERY = 10 * MINUTE;

/** What a runner holds between runs: the states, and when each key's state was last written. */
export type LoadedStates = {
  state: ReplayState;
  /** Key id -> the `evaluated_until` its stored row has. */
  written: Map<string, number>;
};

type Row = { key_id: string; state: string; evaluated_until: number; updated_at: number };

/** The account row: the cursor, and a write stamp that changes on every run (see `stamp`). */
export async function readAccountRow(
  db: Db,
): Promise<{ evaluatedUntil: number; updatedAt: number } | undefined> {
  const [row] = await rows<{ evaluatedUntil: number; updatedAt: number }>(
    db,
    sql`SELECT evaluated_until AS "evaluatedUntil", updated_at AS "updatedAt" FROM detector_state WHERE key_id = ''`,
  );
  return row;
}

/** Identifies the stored states a run left behind: another runner's write changes it. */
export const stamp = (row: { evaluatedUntil: number; updatedAt: number } | undefined) =>
  row ? `${row.evaluatedUntil}:${row.updatedAt}` : 'none';

/**
 * On PostgreSQL the state column is jsonb: it comes back as text with its object keys in jsonb's
 * order, which JSON.parse turns into the same values (the detectors look values up by name).
 */
export async function loadStates(db: Db): Promise<LoadedStates> {
  const found = await rows<Row>(
    db,
    sql`SELECT key_id, state, evaluated_until, updated_at FROM detector_state`,
  );
  const keys = new Map<string, KeyState>();
  const written = new Map<string, number>();
  let account: AccountState = createAccountState();
  for (const r of found) {
    if (r.key_id === ACCOUNT) {
      account = JSON.parse(r.state) as AccountState;
      continue;
    }
    keys.set(r.key_id, JSON.parse(r.state) as KeyState);
    written.set(r.key_id, r.evaluated_until);
  }
  return { state: { keys, account, touched: new Set() }, written };
}

/** States serialized before the write transaction opens: the lock is held for the SQL alone. */
export type PreparedStates = { evaluatedUntil: number; rows: [string, string][]; account: string };

/**
 * The states due at `evaluatedUntil` (never written, `force`d, WRITE_EVERY old, or at the key's
 * slot in the stagger), serialized; `serialized` holds JSON already made of a state unchanged since.
 * With `every` (a replay with more chunks to come), only states that old or never written are due.
 */
export function prepareStates(
  loaded: LoadedStates,
  evaluatedUntil: number,
  force: ReadonlySet<string> = new Set(),
  serialized: ReadonlyMap<string, string> = new Map(),
  every?: number,
): PreparedStates {
  const slot = slotAt(evaluatedUntil);
  const rows: [string, string][] = [];
  for (const keyId of loaded.state.touched) {
    const last = loaded.written.get(keyId);
    const due =
      last === undefined ||
      force.has(keyId) ||
      evaluatedUntil - last >= (every ?? WRITE_EVERY) ||
      (every === undefined && slotOf(keyId) === slot);
    if (!due || last === evaluatedUntil) continue;
    rows.push([keyId, serialized.get(keyId) ?? JSON.stringify(loaded.state.keys.get(keyId))]);
  }
  loaded.state.touched.clear();
  return { evaluatedUntil, rows, account: JSON.stringify(loaded.state.account) };
}

/**
 * Writes one key's state as of `evaluatedUntil`, unless its row is already further on (a runner
 * beside this one wrote it since: states written after their cursor's commit may arrive late).
 * The caller marks it written once its transaction commits.
 */
export async function storeState(db: Db, keyId: string, json: string, evaluatedUntil: number, now: number) {
  await execute(
    db,
    sql`INSERT INTO detector_state (key_id, state, evaluated_until, updated_at)
      VALUES (${keyId}, ${json}, ${evaluatedUntil}, ${now})
      ON CONFLICT (key_id) DO UPDATE SET state = excluded.state, evaluated_until = excluded.evaluated_until,
        updated_at = excluded.updated_at
      WHERE excluded.evaluated_until >= detector_state.evaluated_until`,
  );
}

/**
 * Writes the account row (the cursor). The write stamp grows strictly, so two runs in the same
 * millisecond still leave different stamps. Returns the new stamp.
 */
export async function storeAccount(db: Db, prepared: PreparedStates, now: number): Promise<string> {
  const at = Math.max(now, ((await readAccountRow(db))?.updatedAt ?? 0) + 1);
  await storeState(db, ACCOUNT, prepared.account, prepared.evaluatedUntil, at);
  return stamp({ evaluatedUntil: prepared.evaluatedUntil, updatedAt: at });
}

/** Writes prepared states and always the account row, in the caller's transaction. Returns the new stamp. */
export async function storeStates(
  db: Db,
  loaded: LoadedStates,
  prepared: PreparedStates,
  now: number,
): Promise<string> {
  for (const [keyId, json] of prepared.rows) {
    await storeState(db, keyId, json, prepared.evaluatedUntil, now);
    loaded.written.set(keyId, prepared.evaluatedUntil);
  }
  return storeAccount(db, prepared, now);
}

/** Writes every state not yet stored up to `evaluatedUntil` (a runner closing cleanly). */
export function writeAllStates(db: Db, loaded: LoadedStates, evaluatedUntil: number, now: number) {
  for (const keyId of loaded.state.keys.keys()) loaded.state.touched.add(keyId);
  const prepared = prepareStates(loaded, evaluatedUntil, new Set(loaded.state.keys.keys()));
  return storeStates(db, loaded, prepared, now);
}

/** The stagger's slot of the minute ending at `at`. */
export const slotAt = (at: number) => Math.floor(at / MINUTE) % (WRITE_EVERY / MINUTE);

/** A key's minute in the stagger: a cheap string hash, stable across processes. */
export function slotOf(keyId: string): number {
  let h = 0;
  for (let i = 0; i < keyId.length; i++) h = (h * 31 + keyId.charCodeAt(i)) | 0;
  return Math.abs(h) % (WRITE_EVERY / MINUTE);
}
