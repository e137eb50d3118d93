/** transaction(), rows() and execute() behave the same on a SQLite file and on a real PostgreSQL. */
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../server/db/client.ts';
import { openPgStore, type PgStore } from '../../server/db/pg/client.ts';
import { auditLog, keys } from '../../server/db/schema/index.ts';
import {
  changedRows,
  dialectOf,
  execute,
  pgClientOf,
  rows,
  transaction,
} from '../../server/db/transaction.ts';
import { type PgCluster, postgresAvailable, startPgCluster } from '../helpers/postgres.ts';
import { createTestDeps, T0, type TestDeps } from '../helpers/store.ts';

const addKey = (db: Db, id: string) =>
  db.insert(keys).values({ id, name: id, status: 'active', createdAt: T0, updatedAt: T0 });
const keyIds = async (db: Db) =>
  (await db.select({ id: keys.id }).from(keys).orderBy(keys.id)).map((k) => k.id);

function suite(kind: 'sqlite' | 'postgres', open: () => Promise<{ db: Db; close(): Promise<void> | void }>) {
  describe(`on ${kind}`, () => {
    let db: Db;
    let close: () => Promise<void> | void;
    beforeAll(async () => {
      ({ db, close } = await open());
    });
    afterAll(() => close());

    it('knows its store, inside a transaction too', async () => {
      expect(dialectOf(db)).toBe(kind);
      expect(await transaction(db, async (tx) => dialectOf(tx))).toBe(kind);
    });

    it('commits what the callback wrote and rolls all of it back when it throws', async () => {
      await transaction(db, async (tx) => {
        await addKey(tx, 'a1');
        await addKey(tx, 'a2');
      });
      await expect(
        transaction(db, async (tx) => {
          await addKey(tx, 'a3');
          throw new Error('no');
        }),
      ).rejects.toThrow('no');
      expect(await keyIds(db)).toEqual(['a1', 'a2']);
    });

    it('runs concurrent transactions one after the other, each whole', async () => {
      const order: string[] = [];
      const run = (name: string) =>
        transaction(db, async (tx) => {
          order.push(`${name} begin`);
          await addKey(tx, name);
          await tx.update(keys).set({ notes: name }).where(eq(keys.id, name));
          order.push(`${name} end`);
        });
      await Promise.all([run('c1'), run('c2'), run('c3')]);
      if (kind === 'sqlite')
        expect(order).toEqual(['c1 begin', 'c1 end', 'c2 begin', 'c2 end', 'c3 begin', 'c3 end']);
      expect((await keyIds(db)).filter((k) => k.startsWith('c'))).toEqual(['c1', 'c2', 'c3']);
    });

    it('rolls back a nested transaction alone', async () => {
      await transaction(db, async (tx) => {
        await addKey(tx, 'n1');
        await expect(
          transaction(tx, async (inner) => {
            await addKey(inner, 'n2');
            throw new Error('inner');
          }),
        ).rejects.toThrow('inner');
        await addKey(tx, 'n3');
      });
      expect((await keyIds(db)).filter((k) => k.startsWith('n'))).toEqual(['n1', 'n3']);
    });

    // Node 20 marks every promise of a thread with each enabled AsyncLocalStorage's symbol: a cost on
    // every request (the gateway's serving thread). No transaction left, no mark left.
    it('leaves no async context tracking behind once no transaction runs', async () => {
      const marks = () => Object.getOwnPropertySymbols(Promise.resolve()).length;
      const outside = marks();
      await Promise.all([
        transaction(db, async (tx) => addKey(tx, 'h1')),
        transaction(db, async (tx) => {
          await transaction(tx, async (inner) => addKey(inner, 'h2'));
        }),
      ]);
      expect(marks()).toBe(outside);
      expect((await keyIds(db)).filter((k) => k.startsWith('h'))).toEqual(['h1', 'h2']);
    });

    it('runs raw SQL written once, with numbers back as numbers', async () => {
      const changed = await execute(
        db,
        sql`UPDATE ${keys} SET budget_credits = ${250.5} WHERE ${keys.id} IN (${'a1'}, ${'a2'})`,
      );
      expect(changed).toBe(2);
      const [row] = await rows<{ n: number; total: number }>(
        db,
        sql`SELECT count(*) AS n, sum(budget_credits) AS total FROM ${keys} WHERE budget_credits IS NOT NULL`,
      );
      expect(row).toEqual({ n: 2, total: 501 });
      const result = await db.update(keys).set({ notes: 'x' }).where(eq(keys.status, 'active'));
      expect(changedRows(result)).toBeGreaterThanOrEqual(7);
    });

    it("hands array writers the transaction's own PostgreSQL connection", async () => {
      await transaction(db, async (tx) => {
        await addKey(tx, 'pc1');
        const client = pgClientOf(tx);
        if (kind === 'sqlite') return expect(client).toBeUndefined();
        // Not yet committed: only the transaction's connection sees the row.
        const seen = await client!.query<{ n: number }>('SELECT count(*) AS n FROM keys WHERE id = $1', [
          'pc1',
        ]);
        expect(seen.rows[0]!.n).toBe(1);
      });
    });

    it('reads JSON columns and autoincrement ids as SQLite does', async () => {
      const [saved] = await db
        .insert(auditLog)
        .values({ ts: T0, actor: 'test', action: 'x', target: 't', details: '{"a":1}' })
        .returning();
      expect(typeof saved!.id).toBe('number');
      const [read] = await db.select().from(auditLog).where(eq(auditLog.id, saved!.id));
      expect(JSON.parse(read!.details!)).toEqual({ a: 1 });
      expect(read!.ts).toBe(T0);
    });
  });
}

suite('sqlite', async () => {
  const deps: TestDeps = createTestDeps();
  return { db: deps.db, close: () => deps.cleanup() };
});

const available = postgresAvailable();
let cluster: PgCluster | undefined;
if (available) {
  suite('postgres', async () => {
    cluster = await startPgCluster();
    const store: PgStore = await openPgStore(await cluster.createDatabase());
    return {
      db: store.db,
      close: async () => {
        await store.close();
        await cluster?.stop();
      },
    };
  });
}
