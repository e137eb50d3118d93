/**
 * Held states: a runner writes each key's state at most every WRITE_EVERY, so a process that stops
 * between writes leaves states behind the cursor; the next runner replays them up to it and ends
 * with exactly the states an uninterrupted runner holds.
 */
import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { HOUR, MINUTE } from '../../server/clock.ts';
import { openStore } from '../../server/db/client.ts';
import { openPgStore } from '../../server/db/pg/client.ts';
import { rows as query } from '../../server/db/transaction.ts';
import type { KeyState } from '../../server/detection/core/state.ts';
import { slotAt, slotOf, storeState, WRITE_EVERY } from '../../server/detection/detector-states.ts';
import { readCursor, runDetection, writeHeldStates } from '../../server/detection/run-detection.ts';
import { END, seedHistory } from '../helpers/history.ts';
import { forEachStore, type StoreKind, type TestDeps } from '../helpers/store.ts';

type StateRow = { name: string; state: string; evaluated_until: number };

/** By key name: ids are random per database. */
const rows = (deps: TestDeps) =>
  query<StateRow>(
    deps.db,
    sql`SELECT k.name, s.state, s.evaluated_until FROM detector_state s JOIN keys k ON k.id = s.key_id
       ORDER BY k.name`,
  );

/** A new process on the same database: its own connection (or pool), nothing held. */
async function reopen(kind: StoreKind, deps: TestDeps) {
  if (kind === 'sqlite') {
    const store = openStore(deps.dbPath, { migrate: false });
    return { deps: { ...deps, db: store.db, sqlite: store.sqlite }, close: async () => store.close() };
  }
  const store = await openPgStore(deps.dbPath, { migrate: false });
  return { deps: { ...deps, db: store.db }, close: () => store.close() };
}

/** The state without its checkpoint mark (a runner that stopped may snapshot a day's state again). */
const comparable = (r: StateRow) => {
  const { checkpointedAt: _, ...rest } = JSON.parse(r.state) as Record<string, unknown>;
  return { key: r.name, state: rest };
};

/**
 * The last minute up to END - 6 min that is no key's turn in the stagger. Key ids are random, and a
 * runner stopped at the minute of every key's turn would leave no state behind to catch up.
 */
async function offTurn(deps: TestDeps): Promise<number> {
  const ids = (await query<{ id: string }>(deps.db, sql`SELECT id FROM keys`)).map((k) => k.id);
  let t = END - 6 * MINUTE;
  while (ids.some((id) => slotOf(id) === slotAt(t))) t -= MINUTE;
  return t;
}

/** Replays to 20 minutes before END, then judges minute by minute up to `to`. */
async function judge(deps: TestDeps, to: number) {
  deps.clock.set(END + MINUTE);
  await runDetection(deps, { until: END - 20 * MINUTE });
  for (let t = END - 19 * MINUTE; t <= to; t += MINUTE) await runDetection(deps, { until: t });
}

/** A new process on the database judges up to END - 5 min, writes its states and stops. */
async function judgeInNewProcess(kind: StoreKind, deps: TestDeps) {
  const again = await reopen(kind, deps);
  try {
    await runDetection(again.deps, { until: END - 5 * MINUTE });
    await writeHeldStates(again.deps);
  } finally {
    await again.close();
  }
}

/**
 * A new process on the stopped runner's database judges up to END - 5 min and writes its states:
 * they must be at that minute and equal to those of the runner that never stopped.
 */
async function expectCaughtUp(kind: StoreKind, stopped: TestDeps, steady: TestDeps) {
  await judgeInNewProcess(kind, stopped);
  await writeHeldStates(steady);
  expect((await rows(stopped)).map((r) => r.evaluated_until)).toEqual(
    (await rows(steady)).map(() => END - 5 * MINUTE),
  );
  expect((await rows(stopped)).map(comparable)).toEqual((await rows(steady)).map(comparable));
}

describe('held detector states', () =>
  forEachStore((kind, open) => {
    const all: TestDeps[] = [];
    afterEach(() => {
      for (const d of all.splice(0)) d.cleanup();
    });
    /** Two databases with the same history: one runner that never stops, one that will. */
    const twoSeeded = async () => {
      const pair = [await open(), await open()] as const;
      all.push(...pair);
      for (const d of pair) await seedHistory(d);
      return pair;
    };

    it('writes states behind the cursor between their turns, and a new runner catches them up exactly', async () => {
      const [steady, stopped] = await twoSeeded();

      await judge(steady, END - 5 * MINUTE);
      await judge(stopped, await offTurn(stopped));
      // Live minutes write a key only at its turn: some stored states are behind the cursor.
      const cursor = (await readCursor(stopped))!;
      const behind = (await rows(stopped)).filter((r) => r.evaluated_until < cursor);
      expect(behind.length).toBeGreaterThan(0);
      for (const r of await rows(stopped)) expect(cursor - r.evaluated_until).toBeLessThan(WRITE_EVERY);

      // A new process (its own connection, nothing held) judges the next minute.
      await expectCaughtUp(kind, stopped, steady);
    });

    it('a runner stopped after its cursor moved, before the states followed, leaves them for the next to catch up exactly', async () => {
      const [steady, stopped] = await twoSeeded();

      await judge(steady, END - 5 * MINUTE);
      stopped.clock.set(END + MINUTE);
      await runDetection(stopped, { until: END - 20 * MINUTE });
      // The pause before the first state transaction is where the process stops.
      const stop = () => {
        throw new Error('stopped');
      };
      await expect(runDetection(stopped, { until: END - 6 * MINUTE, pause: stop })).rejects.toThrow(
        'stopped',
      );
      const cursor = (await readCursor(stopped))!;
      expect(cursor).toBe(END - 6 * MINUTE);
      expect((await rows(stopped)).every((r) => r.evaluated_until <= END - 20 * MINUTE)).toBe(true);

      await expectCaughtUp(kind, stopped, steady);
    });

    it('loads states stored before the held rate existed and carries them on', async () => {
      const d = await open();
      all.push(d);
      await seedHistory(d);
      d.clock.set(END + MINUTE);
      // Two hours before END: the next run closes an hour, where the held rate is kept.
      await runDetection(d, { until: END - 2 * HOUR });
      await writeHeldStates(d);
      // What the previous version stored: the same states without `held`.
      const stored = await query<{ key_id: string; state: string; evaluated_until: number }>(
        d.db,
        sql`SELECT key_id, state, evaluated_until FROM detector_state WHERE key_id <> ''`,
      );
      expect(stored.some((r) => (JSON.parse(r.state) as KeyState).held !== undefined)).toBe(true);
      for (const r of stored) {
        const { held: _, ...old } = JSON.parse(r.state) as KeyState;
        await storeState(d.db, r.key_id, JSON.stringify(old), r.evaluated_until, END);
      }
      expect((await rows(d)).every((r) => (JSON.parse(r.state) as KeyState).held === undefined)).toBe(true);

      // A new process reads them back and judges on: the warm key tracks its rate again.
      await judgeInNewProcess(kind, d);
      const busy = (await rows(d)).find((r) => r.name === 'busy')!;
      expect(busy.evaluated_until).toBe(END - 5 * MINUTE);
      expect((JSON.parse(busy.state) as KeyState).held?.low).toBeGreaterThan(0);
    });
  }));
