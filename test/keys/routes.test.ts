import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fingerprintKey } from '../../server/auth/secrets.ts';
import { createTestApi } from '../helpers/api.ts';
import { createTestDeps, T0, TEST_SECRET, type TestDeps } from '../helpers/store.ts';

let deps: TestDeps;
let api: ReturnType<typeof createTestApi>;
let admin: string;

beforeEach(async () => {
  deps = createTestDeps();
  api = createTestApi(deps);
  admin = await api.tokenFor('admin');
});
afterEach(() => deps.cleanup());

const SECRET = 'mhk_live_Zq8VtY3wPq9s7LmN0cRe4Xa1b2';

describe('/api/v1/keys', () => {
  it('registers a key from its secret without ever storing the secret', async () => {
    const res = await api.call('POST', '/api/v1/keys', admin, {
      name: 'prod-web',
      environment: 'production',
      owner: 'web@example.com',
      secret: SECRET,
    });
    expect(res.status).toBe(201);
    expect(res.json.key).toMatchObject({
      name: 'prod-web',
      last4: SECRET.slice(-4),
      status: 'active',
      environment: 'production',
    });
    expect(res.json.key.fingerprint).toBe(fingerprintKey(TEST_SECRET, SECRET));
    deps.sqlite.pragma('wal_checkpoint(TRUNCATE)');
    for (const file of [deps.dbPath, `${deps.dbPath}-wal`]) {
      let bytes: Buffer;
      try {
        bytes = readFileSync(file);
      } catch {
        continue;
      }
      expect(bytes.includes(Buffer.from(SECRET))).toBe(false);
      expect(bytes.includes(Buffer.from(SECRET.slice(0, 20)))).toBe(false);
    }
    const audit = deps.sqlite.prepare('SELECT details FROM audit_log').all() as { details: string }[];
    expect(JSON.stringify(audit)).not.toContain(SECRET);
  });

  it('keeps no last 4 of a secret of 8 characters or fewer', async () => {
    const res = await api.call('POST', '/api/v1/keys', admin, { name: 'tiny', secret: 'zqxwvuts' });
    expect(res.status).toBe(201);
    expect(res.json.key).toMatchObject({ name: 'tiny', last4: null });
    expect(res.json.key.fingerprint).toBe(fingerprintKey(TEST_SECRET, 'zqxwvuts'));
  });

  it('attributes pushed usage by fingerprint and adopts a discovered key when its secret is registered', async () => {
    const fp = fingerprintKey(TEST_SECRET, SECRET);
    const ingest = await api.tokenFor('ingest');
    await api.call('POST', '/api/v1/usage', ingest, {
      // The same fingerprint in upper case is the same key, not a key named after it.
      events: [
        { id: 'x1', key: fp, ts: T0 - 1000, credits: 20 },
        { id: 'x2', key: `sha256:${fp.slice('sha256:'.length).toUpperCase()}`, ts: T0 - 900, credits: 10 },
      ],
    });
    let keys = (await api.call('GET', '/api/v1/keys', admin)).json.keys;
    expect(keys).toHaveLength(1);
    expect(keys[0].status).toBe('discovered');
    await api.call('POST', '/api/v1/keys', admin, { name: 'claimed', secret: SECRET });
    keys = (await api.call('GET', '/api/v1/keys', admin)).json.keys;
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ name: 'claimed', status: 'active', last4: SECRET.slice(-4) });
    const usage = await api.call(
      'GET',
      `/api/v1/keys/claimed/usage?step=day&from=${T0 - 86_400_000}&to=${T0}`,
      admin,
    );
    expect(usage.json.points.reduce((s: number, p: { credits: number }) => s + p.credits, 0)).toBe(30);
  });

  it('validates input and names the field', async () => {
    const res = await api.call('POST', '/api/v1/keys', admin, { name: '', environment: 5, colour: 'red' });
    expect(res.status).toBe(400);
    const paths = res.json.error.issues.map((i: { path: string }) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['name', 'environment']));
    expect(JSON.stringify(res.json.error.issues)).toContain('colour');
    expect((await api.call('GET', '/api/v1/keys', admin)).json.keys).toHaveLength(0);
  });

  it('names an unknown field in the issue path, in a body and in a query', async () => {
    const created = await api.call('POST', '/api/v1/keys', admin, { name: 'a' });
    const patch = await api.call('PATCH', `/api/v1/keys/${created.json.id}`, admin, { colour: 'red' });
    expect(patch.status).toBe(400);
    expect(patch.json.error.issues.map((i: { path: string }) => i.path)).toEqual(['colour']);
    const query = await api.call('GET', '/api/v1/incidents?colour=red&shade=blue', admin);
    expect(query.status).toBe(400);
    expect(query.json.error.issues.map((i: { path: string }) => i.path)).toEqual(['colour', 'shade']);
  });

  it('refuses a duplicate name with 409', async () => {
    await api.call('POST', '/api/v1/keys', admin, { name: 'a' });
    const res = await api.call('POST', '/api/v1/keys', admin, { name: 'a' });
    expect(res.status).toBe(409);
    expect(res.json.error.code).toBe('conflict');
  });

  it('edits labels and budget, and revokes from a given time', async () => {
    const { key } = (await api.call('POST', '/api/v1/keys', admin, { name: 'staging' })).json;
    const patched = await api.call('PATCH', `/api/v1/keys/${key.id}`, admin, {
      owner: 'ops@example.com',
      budget_credits: 50_000,
    });
    expect(patched.json.key).toMatchObject({ owner: 'ops@example.com', budget_credits: 50_000 });
    const at = '2026-11-20T08:00:00.000Z';
    const revoked = await api.call('POST', `/api/v1/keys/${key.id}/revoke`, admin, { at });
    expect(revoked.json.key).toMatchObject({ status: 'revoked', revoked_at: at });
    // Retried without a time: nothing moves (uses since `at` stay uses after revocation), no second audit entry.
    const again = await api.call('POST', '/api/v1/keys/staging/revoke', admin);
    expect(again.status).toBe(200);
    expect(again.json.key).toMatchObject({ status: 'revoked', revoked_at: at });
    const corrected = '2026-11-19T08:00:00.000Z';
    const moved = await api.call('POST', '/api/v1/keys/staging/revoke', admin, { at: corrected });
    expect(moved.json.key.revoked_at).toBe(corrected);
    const revokes = deps.sqlite
      .prepare("SELECT count(*) AS n FROM audit_log WHERE action = 'key.revoke'")
      .get();
    expect(revokes).toEqual({ n: 2 });
    const actions = deps.sqlite.prepare('SELECT action FROM audit_log ORDER BY id').all() as {
      action: string;
    }[];
    expect(actions.map((a) => a.action)).toEqual(
      expect.arrayContaining(['key.create', 'key.update', 'key.revoke']),
    );
  });

  it('gives a key serving another region its own time zone, and refuses an unknown one', async () => {
    const { key } = (await api.call('POST', '/api/v1/keys', admin, { name: 'apac' })).json;
    expect(key.time_zone).toBeNull();
    const set = await api.call('PATCH', `/api/v1/keys/${key.id}`, admin, { time_zone: 'Asia/Tokyo' });
    expect(set.json.key.time_zone).toBe('Asia/Tokyo');
    const bad = await api.call('PATCH', `/api/v1/keys/${key.id}`, admin, { time_zone: 'Mars/Olympus' });
    expect(bad.status).toBe(400);
    expect(bad.json.error.issues[0].path).toBe('time_zone');
    const cleared = await api.call('PATCH', `/api/v1/keys/${key.id}`, admin, { time_zone: null });
    expect(cleared.json.key.time_zone).toBeNull();
  });

  it('answers 404 for an unknown key and 403 to a read-only token that writes', async () => {
    expect((await api.call('GET', '/api/v1/keys/nope', admin)).status).toBe(404);
    const read = await api.tokenFor('read');
    expect((await api.call('GET', '/api/v1/keys', read)).status).toBe(200);
    expect((await api.call('POST', '/api/v1/keys', read, { name: 'x' })).status).toBe(403);
    expect((await api.call('POST', '/api/v1/keys/x/revoke', await api.tokenFor('ingest'))).status).toBe(403);
  });
});
