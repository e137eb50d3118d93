/**
 * The same batches through SQLite's recordEvents and the PostgreSQL recorder: every row of every
 * table the write path touches must come out equal (key ids, random per database, compared by key
 * name; numbers and booleans as numbers; credits to 1e-9, sums being added in another order).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DAY, fakeClock, HOUR, MINUTE } from '../../server/clock.ts';
import { openPgStore, type PgStore } from '../../server/db/pg/client.ts';
import { createRng } from '../../server/simulate/random.ts';
import type { RecordResult, UsageEvent } from '../../server/usage/record-events.ts';
import { pgUsageRecorder } from '../../server/usage/record-events-pg.ts';
import { sqliteUsageRecorder, type UsageRecorder } from '../../server/usage/recorder.ts';
import { type PgCluster, postgresAvailable, startPgCluster } from '../helpers/postgres.ts';
import { createTestDeps, T0, type TestDeps } from '../helpers/store.ts';

/** Every table recordEvents writes (projects.ts's claim deletes from unattributed_spend). */
const WRITTEN_TABLES = [
  'keys',
  'usage_events',
  'usage_minute',
  'usage_hour',
  'usage_day',
  'usage_month',
  'usage_minute_total',
  'usage_hour_total',
  'usage_day_total',
  'usage_key_day',
  'usage_key_month',
  'usage_operation_day',
  'key_networks',
  'key_clients',
  'late_usage',
  'projects',
  'unattributed_spend',
] as const;

type Row = Record<string, unknown>;
type Side = {
  recorder: UsageRecorder;
  clock: ReturnType<typeof fakeClock>;
  /** SQL with `?` placeholders, run as is on SQLite and with $n on PostgreSQL. */
  exec(sql: string, params?: unknown[]): Promise<void>;
  rows(table: string): Promise<Row[]>;
  close(): Promise<void>;
};

function sqliteSide(): Side {
  const deps: TestDeps = createTestDeps();
  return {
    recorder: sqliteUsageRecorder(deps),
    clock: deps.clock,
    exec: async (sql, params = []) => void deps.sqlite.prepare(sql).run(...params),
    rows: async (table) => deps.sqlite.prepare(`SELECT * FROM ${table}`).all() as Row[],
    close: async () => deps.cleanup(),
  };
}

function pgSide(store: PgStore): Side {
  const clock = fakeClock(T0);
  return {
    recorder: pgUsageRecorder({ pool: store.pool, clock }),
    clock,
    exec: async (sql, params = []) => {
      let n = 0;
      await store.pool.query(
        sql.replace(/\?/g, () => `$${++n}`),
        params,
      );
    },
    rows: async (table) => (await store.pool.query(`SELECT * FROM ${table}`)).rows,
    close: () => store.close(),
  };
}

/** Rows of every written table, key ids replaced by key names, in a stable order. */
async function dump(side: Side): Promise<Record<string, string[]>> {
  const names = new Map((await side.rows('keys')).map((k) => [k.id as string, k.name as string]));
  const out: Record<string, string[]> = {};
  for (const table of WRITTEN_TABLES) {
    out[table] = (await side.rows(table))
      .map((row) => {
        const norm: Row = {};
        for (const [col, v] of Object.entries(row).sort(([a], [b]) => (a < b ? -1 : 1))) {
          if (col === 'id' && table === 'keys') continue;
          if (col === 'key_id' && typeof v === 'string') norm[col] = names.get(v) ?? `?${v}`;
          else if (typeof v === 'boolean') norm[col] = v ? 1 : 0;
          else if (typeof v === 'string' && /^-?\d+$/.test(v) && col !== 'value' && col !== 'event_id')
            norm[col] = Number(v);
          else if (typeof v === 'number' && !Number.isInteger(v)) norm[col] = Math.round(v * 1e9) / 1e9;
          else norm[col] = v;
        }
        return JSON.stringify(norm);
      })
      .sort();
  }
  return out;
}

const normResult = (r: RecordResult) => ({
  accepted: r.accepted,
  duplicates: r.duplicates,
  discovered: r.discovered.map((d) => d.name),
});

/** Keys registered beforehand, a name a discovered key collides with, an orphan project. */
const SEED: [string, unknown[]][] = [
  [
    `INSERT INTO keys (id, name, provider, fingerprint, last4, status, created_at, updated_at) VALUES (?, ?, 'magichour', ?, ?, 'active', ?, ?)`,
    ['key_alpha', 'alpha', 'sha256:aaaaaaaaaaaaaaaa', 'aaaa', T0 - 30 * DAY, T0 - 30 * DAY],
  ],
  [
    `INSERT INTO keys (id, name, provider, fingerprint, last4, status, created_at, updated_at) VALUES (?, ?, 'magichour', ?, ?, 'active', ?, ?)`,
    ['key_beta', 'beta', 'sha256:bbbbbbbbbbbbbbbb', 'bbbb', T0 - 30 * DAY, T0 - 30 * DAY],
  ],
  [
    `INSERT INTO keys (id, name, provider, status, created_at, updated_at, first_seen_at, last_used_at) VALUES (?, ?, 'magichour', 'active', ?, ?, ?, ?)`,
    ['key_taken', 'discovered-1234', T0 - 9 * DAY, T0 - 9 * DAY, T0 - 9 * DAY, T0 - 8 * DAY],
  ],
  [
    `INSERT INTO projects (id, key_id, kind, status, created_at, final_credits, updated_at) VALUES (?, NULL, 'image', 'complete', ?, ?, ?)`,
    ['proj-orphan', T0 - HOUR, 30, T0 - HOUR],
  ],
  [
    `INSERT INTO unattributed_spend (ts, until, source, credits, project_id, created_at) VALUES (?, ?, 'webhook', ?, ?, ?)`,
    [T0 - HOUR, T0 - HOUR, 30, 'proj-orphan', T0 - HOUR],
  ],
  // Detection has judged every minute before T0 - 10 min: usage before it is late.
  [
    `INSERT INTO detector_state (key_id, state, evaluated_until, updated_at) VALUES ('', '{}', ?, ?)`,
    [T0 - 10 * MINUTE, T0],
  ],
];

/** A mixed batch: keys by id, name and fingerprint, unknown ones, statuses, networks, projects. */
function mixedBatch(seed: number, count: number, prefix: string): UsageEvent[] {
  const rng = createRng(seed);
  const keys: UsageEvent['key'][] = [
    { by: 'ref', value: 'key_alpha' },
    { by: 'ref', value: 'alpha' },
    { by: 'ref', value: 'beta' },
    { by: 'fingerprint', fingerprint: 'sha256:aaaaaaaaaaaaaaaa', last4: 'aaaa' },
    { by: 'fingerprint', fingerprint: 'sha256:bbbbbbbbbbbbbbbb' },
    { by: 'ref', value: 'new-by-ref' },
    { by: 'fingerprint', fingerprint: 'sha256:1111111111111111', last4: '1234' },
    { by: 'fingerprint', fingerprint: 'sha256:2222222222222222' },
  ];
  return Array.from({ length: count }, (_, i) => {
    const status = rng.pick([200, 200, 200, 400, 401, 429, 500]);
    return {
      source: rng.pick(['push', 'push', 'csv', 'gateway']),
      eventId: `${prefix}${i}`,
      key: rng.pick(keys),
      ts: T0 - rng.int(0, 40 * DAY),
      credits: rng.pick([0, 1, 2.5, 24, 120.125]),
      requests: rng.int(1, 3),
      status,
      operation: rng.pick(['face-swap', 'ai-image-generator', '']),
      sourceIp: rng.pick([null, '203.0.113.7', '203.0.113.99', '198.51.100.4', '2001:db8:1:2::5']),
      userAgent: rng.pick([null, 'curl/8.5', 'node']),
      clientOrigin: rng.pick([null, 'https://app.example']),
      projectId: rng.next() < 0.1 ? `proj-${rng.int(1, 20)}` : null,
      latencyMs: rng.pick([null, 12.5, 300]),
    };
  });
}

/** Seven new tokens from one network through the gateway: past DISCOVERY_LIMIT they share a row. */
function floodBatch(): UsageEvent[] {
  return Array.from({ length: 7 }, (_, i) => ({
    source: 'gateway',
    eventId: `flood-${i}`,
    key: { by: 'fingerprint', fingerprint: `sha256:f${String(i).repeat(15)}`, last4: `f00${i}` },
    ts: T0 - MINUTE + i,
    credits: 1,
    requests: 1,
    status: 401,
    operation: '',
    sourceIp: `192.0.2.${10 + i}`,
  }));
}

const available = postgresAvailable();

describe.skipIf(!available)('recordEvents on SQLite and PostgreSQL', { timeout: 120_000 }, () => {
  let cluster: PgCluster;
  const open: Side[] = [];
  beforeAll(async () => {
    cluster = await startPgCluster();
  });
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  async function bothSides(): Promise<[Side, Side]> {
    const sides: [Side, Side] = [sqliteSide(), pgSide(await openPgStore(await cluster.createDatabase()))];
    open.push(...sides);
    for (const side of sides) for (const [sql, params] of SEED) await side.exec(sql, params);
    return sides;
  }

  /** Sends each batch to both sides at the same clock; results and every table must match. */
  async function expectSame(batches: { at: number; events: UsageEvent[] }[]) {
    const [lite, pg] = await bothSides();
    const results: ReturnType<typeof normResult>[][] = [[], []];
    for (const b of batches) {
      for (const [i, side] of [lite, pg].entries()) {
        side.clock.set(b.at);
        results[i]!.push(normResult(await side.recorder.record(b.events)));
      }
    }
    expect(results[1]).toEqual(results[0]);
    const [a, b] = [await dump(lite), await dump(pg)];
    for (const table of WRITTEN_TABLES) expect({ table, rows: b[table] }).toEqual({ table, rows: a[table] });
    return { results: results[0]!, rows: a };
  }

  it('stores the same rows for mixed keys, discovery, late usage, projects and a gateway flood', async () => {
    const batch = mixedBatch(1, 1500, 'e');
    batch.push({ ...batch[0]!, projectId: 'proj-orphan', eventId: 'claims-orphan', credits: 24 });
    const { results, rows } = await expectSame([
      { at: T0, events: batch },
      { at: T0 + MINUTE, events: floodBatch() },
      { at: T0 + 2 * MINUTE, events: mixedBatch(2, 800, 'f') },
      // Imported history only: late, but learned, never alerted on.
      {
        at: T0 + 3 * MINUTE,
        events: mixedBatch(5, 50, 'csv').map((e) => ({
          ...e,
          source: 'csv',
          key: { by: 'ref', value: 'imported' },
        })),
      },
    ]);
    expect(rows.late_usage!.filter((r) => r.includes('"key_id":"imported"'))).toEqual([
      expect.stringContaining('"alert":0'),
    ]);
    // Not a comparison of empty tables: every written table has rows, but the orphan project's
    // unattributed spend, seeded and withdrawn by the claim.
    for (const table of WRITTEN_TABLES.filter((t) => t !== 'unattributed_spend'))
      expect({ table, n: rows[table]!.length > 0 }).toEqual({ table, n: true });
    expect(results[0]!.discovered).toEqual(
      expect.arrayContaining(['new-by-ref', 'discovered-1234-2', 'discovered-22222222']),
    );
    expect(results[1]!.discovered).toHaveLength(6);
    expect(results[1]!.discovered.at(-1)).toMatch(/^unknown keys 192\.0\.2\./);
    expect(rows.unattributed_spend).toEqual([]);
  });

  it('counts a resent batch as all duplicates and changes no row', async () => {
    const batch = mixedBatch(3, 600, 'r');
    const { results } = await expectSame([
      { at: T0, events: batch },
      { at: T0 + HOUR, events: batch },
      { at: T0 + 2 * HOUR, events: [] },
    ]);
    expect(results[1]).toMatchObject({ accepted: 0, duplicates: 600, discovered: [] });
    expect(results[2]).toEqual({ accepted: 0, duplicates: 0, discovered: [] });
  });

  it('keeps the first of an event sent twice in one batch', async () => {
    const batch = mixedBatch(4, 300, 'd');
    const copies = batch.slice(0, 100).map((e) => ({ ...e, credits: e.credits + 1000, status: 500 }));
    const { results, rows } = await expectSame([{ at: T0, events: [...batch, ...copies] }]);
    expect(results[0]).toMatchObject({ accepted: 300, duplicates: 100 });
    expect(rows.usage_events!.filter((r) => (JSON.parse(r) as { credits: number }).credits >= 1000)).toEqual(
      [],
    );
  });
});

describe.skipIf(!available)(
  'the PostgreSQL recorder with two processes at once',
  { timeout: 120_000 },
  () => {
    let cluster: PgCluster;
    const stores: PgStore[] = [];
    beforeAll(async () => {
      cluster = await startPgCluster();
    });
    afterEach(async () => {
      for (const s of stores.splice(0)) await s.close();
    });
    afterAll(async () => {
      await cluster?.stop();
    });

    /** Two pools on one database, as two processes would have, and a reference database. */
    async function twoProcesses(): Promise<{ a: Side; b: Side; reference: Side }> {
      const url = await cluster.createDatabase();
      const first = await openPgStore(url);
      const second = await openPgStore(url, { migrate: false });
      const ref = await openPgStore(await cluster.createDatabase());
      stores.push(first, second, ref);
      const [a, b, reference] = [pgSide(first), pgSide(second), pgSide(ref)];
      for (const [sql, params] of SEED) {
        await a.exec(sql, params);
        await reference.exec(sql, params);
      }
      return { a, b, reference };
    }

    it('stores a batch sent by both at the same time once: accepted counts sum to the batch', async () => {
      const { a, b, reference } = await twoProcesses();
      for (let round = 0; round < 5; round++) {
        const batch = mixedBatch(10 + round, 2000, `c${round}-`);
        const [ra, rb] = await Promise.all([a.recorder.record(batch), b.recorder.record(batch)]);
        expect(ra.accepted + rb.accepted).toBe(batch.length);
        expect(ra.duplicates + rb.duplicates).toBe(batch.length);
        // Each new key registered by one of them only.
        const names = [...ra.discovered, ...rb.discovered].map((d) => d.name);
        expect(new Set(names).size).toBe(names.length);
        await reference.recorder.record(batch);
      }
      const [got, want] = [await dump(a), await dump(reference)];
      for (const table of WRITTEN_TABLES)
        expect({ table, rows: got[table] }).toEqual({ table, rows: want[table] });
    });

    it('counts a batch sent by one then the other as all duplicates on the second', async () => {
      const { a, b } = await twoProcesses();
      const batch = mixedBatch(20, 1000, 's');
      expect((await a.recorder.record(batch)).accepted).toBe(1000);
      const before = await dump(a);
      expect(await b.recorder.record(batch)).toEqual({ accepted: 0, duplicates: 1000, discovered: [] });
      expect(await dump(b)).toEqual(before);
    });

    it('lets one network discover DISCOVERY_LIMIT new keys an hour in all, however many processes', async () => {
      const { a, b } = await twoProcesses();
      for (let round = 0; round < 4; round++) {
        const tokens = (from: number) =>
          Array.from(
            { length: 5 },
            (_, i): UsageEvent => ({
              source: 'gateway',
              eventId: `n${round}-${from + i}`,
              key: { by: 'fingerprint', fingerprint: `sha256:${round}${String(from + i).padStart(15, '0')}` },
              ts: T0,
              credits: 1,
              requests: 1,
              status: 401,
              operation: '',
              sourceIp: `10.${round}.0.${from + i}`,
            }),
          );
        const [ra, rb] = await Promise.all([a.recorder.record(tokens(0)), b.recorder.record(tokens(5))]);
        // As one process would: five keys of their own, then the network's one shared row.
        const names = [...ra.discovered, ...rb.discovered].map((d) => d.name);
        expect({
          round,
          names: names.length,
          shared: names.filter((n) => n.startsWith('unknown keys')).length,
        }).toEqual({ round, names: 6, shared: 1 });
      }
    });

    it('adds overlapping batches sent at once exactly as one after the other would', async () => {
      const { a, b, reference } = await twoProcesses();
      const all = mixedBatch(30, 3000, 'o');
      // Overlapping halves, the second reversed: the same events and keys met in other orders.
      const first = all.slice(0, 2000);
      const second = all.slice(1000).reverse();
      const [ra, rb] = await Promise.all([a.recorder.record(first), b.recorder.record(second)]);
      expect(ra.accepted + rb.accepted).toBe(all.length);
      await reference.recorder.record(all);
      const [got, want] = [await dump(a), await dump(reference)];
      // A discovered key's network and creation time come from the first event that named it, which
      // depends on which batch got there first: the keys table is compared by count only.
      for (const table of WRITTEN_TABLES.filter((t) => t !== 'keys'))
        expect({ table, rows: got[table] }).toEqual({ table, rows: want[table] });
      expect(got.keys).toHaveLength(want.keys!.length);
    });
  },
);
