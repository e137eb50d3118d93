import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApi } from '../../helpers/api.ts';
import { countRows, forEachStore, selectRows, T0, type TestDeps } from '../../helpers/store.ts';

let deps: TestDeps;
let api: ReturnType<typeof createTestApi>;
let ingest: string;

const event = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  key: 'prod-web',
  ts: new Date(T0 - 60_000).toISOString(),
  credits: 120,
  operation: 'face-swap',
  ...extra,
});

const count = (table: string) => countRows(deps, table);
const creditsInMinutes = async () =>
  (await selectRows<{ c: number }>(deps, 'SELECT coalesce(sum(credits), 0) AS c FROM usage_minute'))[0]!.c;

forEachStore((kind, open) => {
  beforeEach(async () => {
    deps = await open();
    api = createTestApi(deps);
    ingest = await api.tokenFor('ingest');
  });
  afterEach(() => deps.cleanup());

  describe('POST /api/v1/usage', () => {
    // SQLite only: a TEMP trigger on the serving thread's connection proves where the write ran.
    it.skipIf(kind === 'postgres')(
      'validates and stores on its worker thread, not on the serving thread',
      async () => {
        // A TEMP trigger lives on this connection only: a write from the serving thread would fail.
        deps.sqlite.exec(
          `CREATE TEMP TRIGGER not_here BEFORE INSERT ON usage_events BEGIN SELECT RAISE(ABORT, 'written on the serving thread'); END`,
        );
        const res = await api.call('POST', '/api/v1/usage', ingest, { events: [event('w1'), event('w2')] });
        expect(res.json).toEqual({ accepted: 2, duplicates: 0 });
        expect(await count('usage_events')).toBe(2);
        // The worker's clock is the caller's: the fake clock's `now` defaults a missing ts.
        await api.call('POST', '/api/v1/usage', ingest, { events: [{ id: 'w3', key: 'prod-web' }] });
        const ts = deps.sqlite.prepare("SELECT ts FROM usage_events WHERE event_id = 'w3'").get() as {
          ts: number;
        };
        expect(ts.ts).toBe(T0);
        deps.sqlite.exec('DROP TRIGGER temp.not_here');
      },
    );

    it('stores a batch once even when it is sent twice', async () => {
      const batch = {
        events: [event('e1'), event('e2', { credits: 5 }), event('e3', { status: 401, credits: 0 })],
      };
      const first = await api.call('POST', '/api/v1/usage', ingest, batch);
      expect(first.status).toBe(200);
      expect(first.json).toEqual({ accepted: 3, duplicates: 0 });
      const second = await api.call('POST', '/api/v1/usage', ingest, batch);
      expect(second.json).toEqual({ accepted: 0, duplicates: 3 });
      expect(await count('usage_events')).toBe(3);
      expect(await creditsInMinutes()).toBe(125);
    });

    it('counts a repeated id inside one batch as a duplicate', async () => {
      const res = await api.call('POST', '/api/v1/usage', ingest, { events: [event('same'), event('same')] });
      expect(res.json).toEqual({ accepted: 1, duplicates: 1 });
    });

    it('rejects the whole batch when one event is bad, naming every bad field', async () => {
      const batch = {
        events: [
          event('ok1'),
          event('bad', { credits: -5, requests: 0 }),
          event('ok2'),
          { key: 'x', ts: 'yesterday' },
        ],
      };
      const res = await api.call('POST', '/api/v1/usage', ingest, batch);
      expect(res.status).toBe(400);
      expect(res.json.error.code).toBe('validation_failed');
      const paths = res.json.error.issues.map((i: { path: string }) => i.path).sort();
      expect(paths).toEqual(['events.1.credits', 'events.1.requests', 'events.3.id', 'events.3.ts']);
      expect(await count('usage_events')).toBe(0);
      expect(await count('usage_minute')).toBe(0);
      expect(await count('keys')).toBe(0);
    });

    it('keeps only the origin of an optional origin field, and names a field that is not one', async () => {
      const res = await api.call('POST', '/api/v1/usage', ingest, {
        events: [event('o1', { origin: 'https://app.example.com/pay?card=4111' }), event('o2')],
      });
      expect(res.json).toEqual({ accepted: 2, duplicates: 0 });
      expect(await selectRows(deps, 'SELECT client_origin FROM usage_events ORDER BY event_id')).toEqual([
        { client_origin: 'https://app.example.com' },
        { client_origin: null },
      ]);
      const bad = await api.call('POST', '/api/v1/usage', ingest, {
        events: [event('o3', { origin: 'not a url' })],
      });
      expect(bad.status).toBe(400);
      expect(bad.json.error.issues[0].path).toBe('events.0.origin');
    });

    it('rejects unknown fields so a typo cannot silently drop credits', async () => {
      const res = await api.call('POST', '/api/v1/usage', ingest, {
        events: [{ id: 'a', key: 'k', credit: 50 }],
      });
      expect(res.status).toBe(400);
      expect(res.json.error.issues[0].path).toBe('events.0.credit');
      expect(res.json.error.issues[0].message).toMatch(/credit/);
    });

    it('rejects events stamped in the future', async () => {
      const res = await api.call('POST', '/api/v1/usage', ingest, {
        events: [event('f', { ts: T0 + 3_600_000 })],
      });
      expect(res.status).toBe(400);
      expect(res.json.error.issues[0].path).toBe('events.0.ts');
    });

    it('rejects events older than raw events are kept, pointing to CSV import for history', async () => {
      const res = await api.call('POST', '/api/v1/usage', ingest, {
        events: [event('ok', { ts: T0 - 89 * 86_400_000 }), event('old', { ts: 0 })],
      });
      expect(res.status).toBe(400);
      expect(res.json.error.issues).toEqual([
        { path: 'events.1.ts', message: expect.stringMatching(/more than 90 days old.*import csv/) },
      ]);
      expect(await count('usage_events')).toBe(0);
    });

    it('accepts epoch milliseconds and ISO offsets', async () => {
      const res = await api.call('POST', '/api/v1/usage', ingest, {
        events: [event('ms', { ts: T0 - 1000 }), event('off', { ts: '2026-11-26T13:59:00+02:00' })],
      });
      expect(res.json).toEqual({ accepted: 2, duplicates: 0 });
      const ts = await selectRows<{ ts: number }>(deps, 'SELECT ts FROM usage_events ORDER BY event_id');
      expect(ts.map((r) => r.ts)).toEqual([T0 - 1000, Date.UTC(2026, 10, 26, 11, 59)]);
    });

    it('registers an unknown key as discovered', async () => {
      await api.call('POST', '/api/v1/usage', ingest, { events: [event('d1', { key: 'mystery-key' })] });
      const keys = await api.call('GET', '/api/v1/keys', await api.tokenFor('read'));
      expect(keys.json.keys).toMatchObject([{ name: 'mystery-key', status: 'discovered' }]);
      expect(keys.json.keys[0].last_used_at).toBe(new Date(T0 - 60_000).toISOString());
      // Its age counts from its first use, not from when Keywatch stored it.
      expect(keys.json.keys[0].created_at).toBe(new Date(T0 - 60_000).toISOString());
    });

    it('changes nothing for a duplicate, even one naming a key nobody registered', async () => {
      await api.call('POST', '/api/v1/usage', ingest, { events: [event('d2')] });
      const fingerprint = `sha256:${'ab'.repeat(32)}`;
      const res = await api.call('POST', '/api/v1/usage', ingest, {
        events: [event('d2', { key: 'other-key' }), event('d2', { key: fingerprint })],
      });
      expect(res.json).toEqual({ accepted: 0, duplicates: 2 });
      const keys = await api.call('GET', '/api/v1/keys', await api.tokenFor('read'));
      expect(keys.json.keys.map((k: { name: string }) => k.name)).toEqual(['prod-web']);
      // A new event in the same batch as a duplicate still registers its key.
      const mixed = await api.call('POST', '/api/v1/usage', ingest, {
        events: [event('d2', { key: 'late-key' }), event('d3', { key: 'late-key' })],
      });
      expect(mixed.json).toEqual({ accepted: 1, duplicates: 1 });
      expect(await count('keys')).toBe(2);
    });

    it('rejects a date that is not on the calendar (February 30th), in a body and in a query', async () => {
      const res = await api.call('POST', '/api/v1/usage', ingest, {
        events: [
          event('c1', { ts: '2026-02-30T10:00:00Z' }),
          event('c2', { ts: '2026-04-31T10:00:00+02:00' }),
        ],
      });
      expect(res.status).toBe(400);
      expect(res.json.error.issues.map((i: { path: string }) => i.path)).toEqual([
        'events.0.ts',
        'events.1.ts',
      ]);
      expect(await count('usage_events')).toBe(0);
      const read = await api.call(
        'GET',
        '/api/v1/incidents?from=2026-02-30T00:00:00Z',
        await api.tokenFor('read'),
      );
      expect(read.status).toBe(400);
      expect(read.json.error.issues[0].path).toBe('from');
    });

    it('needs credentials with the ingest scope', async () => {
      const batch = { events: [event('s1')] };
      expect((await api.call('POST', '/api/v1/usage', null, batch)).status).toBe(401);
      expect((await api.call('POST', '/api/v1/usage', 'kw_not-a-real-token', batch)).status).toBe(401);
      const res = await api.call('POST', '/api/v1/usage', await api.tokenFor('read'), batch);
      expect(res.status).toBe(403);
      expect(res.json.error.code).toBe('forbidden');
      expect(await count('usage_events')).toBe(0);
      expect((await api.call('POST', '/api/v1/usage', await api.tokenFor('admin'), batch)).status).toBe(200);
    });

    it('answers 415 for a body that is not JSON and 400 for broken JSON', async () => {
      const res = await api.app.request('/api/v1/usage', {
        method: 'POST',
        headers: { authorization: `Bearer ${ingest}`, 'content-type': 'text/plain' },
        body: 'id,key\n1,a',
      });
      expect(res.status).toBe(415);
      expect((await res.json()).error.code).toBe('unsupported_media_type');
      const broken = await api.call('POST', '/api/v1/usage', ingest, '{"events": [');
      expect(broken.status).toBe(400);
      expect(broken.json.error.code).toBe('invalid_json');
    });

    it('answers 413 over 10,000 events or 10 MiB, storing nothing', async () => {
      const many = { events: Array.from({ length: 10_001 }, (_, i) => ({ id: `m${i}`, key: 'k' })) };
      const tooMany = await api.call('POST', '/api/v1/usage', ingest, many);
      expect(tooMany.status).toBe(413);
      expect(tooMany.json.error.issues).toEqual([
        { path: 'events', message: 'at most 10000 events per request' },
      ]);
      const big = { events: [{ id: 'big', key: 'k', user_agent: 'x'.repeat(11 * 1024 * 1024) }] };
      expect((await api.call('POST', '/api/v1/usage', ingest, big)).status).toBe(413);
      expect(await count('usage_events')).toBe(0);
    });

    it('accepts exactly 10,000 events in one atomic batch', async () => {
      const events = Array.from({ length: 10_000 }, (_, i) => ({
        id: `n${i}`,
        key: `k${i % 7}`,
        ts: T0 - i * 1000,
        credits: 1,
      }));
      const res = await api.call('POST', '/api/v1/usage', ingest, { events });
      expect(res.json).toEqual({ accepted: 10_000, duplicates: 0 });
      expect(await creditsInMinutes()).toBe(10_000);
    });
  });
});
