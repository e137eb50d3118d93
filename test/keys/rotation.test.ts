/** Rotation: pair an old key with its replacement, watch its clients move, and know when revoking is safe. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MINUTE } from '../../server/clock.ts';
import { loadKeys } from '../../server/detection/load-chunk.ts';
import { createTestApi } from '../helpers/api.ts';
import { createTestDeps, T0, type TestDeps } from '../helpers/store.ts';

let deps: TestDeps;
let api: ReturnType<typeof createTestApi>;
let admin: string;

beforeEach(async () => {
  deps = createTestDeps();
  api = createTestApi(deps);
  admin = await api.tokenFor('admin');
});
afterEach(() => deps.cleanup());

async function key(name: string): Promise<string> {
  const res = await api.call('POST', '/api/v1/keys', admin, { name });
  expect(res.status).toBe(201);
  return res.json.key.id;
}

const use = (id: string, key: string, ts: number, ip: string, ua: string, operation = 'face-swap') => ({
  id,
  key,
  ts,
  credits: 10,
  operation,
  source_ip: ip,
  user_agent: ua,
});

describe('/api/v1/keys/:id/rotation', () => {
  it('lists the clients still on the old key and says safe only after the quiet time', async () => {
    const oldId = await key('web-2025');
    const newId = await key('web-2026');
    const events = [
      use('a1', 'web-2025', T0 - 50 * MINUTE, '203.0.113.7', 'magic-hour-node/0.71.1'),
      use('a2', 'web-2025', T0 - 20 * MINUTE, '203.0.113.7', 'magic-hour-node/0.71.1'),
      use('b1', 'web-2025', T0 - 90 * MINUTE, '198.51.100.4', 'python-requests/2.32', 'text-to-video'),
    ];
    expect((await api.call('POST', '/api/v1/usage', await api.tokenFor('ingest'), { events })).status).toBe(
      200,
    );

    const started = await api.call('POST', `/api/v1/keys/${oldId}/rotation`, admin, {
      new_key_id: newId,
      quiet_minutes: 60,
    });
    expect(started.status).toBe(201);
    expect(started.json).toMatchObject({
      old_key: { id: oldId, name: 'web-2025' },
      new_key: { id: newId, name: 'web-2026' },
      quiet_minutes: 60,
      safe_to_revoke: false,
    });
    expect(started.json.remaining_clients).toEqual([
      {
        source_ip: '203.0.113.7',
        user_agent: 'magic-hour-node/0.71.1',
        operation: 'face-swap',
        requests: 2,
        last_seen_at: new Date(T0 - 20 * MINUTE).toISOString(),
        quiet: false,
      },
      {
        source_ip: '198.51.100.4',
        user_agent: 'python-requests/2.32',
        operation: 'text-to-video',
        requests: 1,
        last_seen_at: new Date(T0 - 90 * MINUTE).toISOString(),
        quiet: true,
      },
    ]);
    expect(started.json.safe_at).toBe(new Date(T0 + 40 * MINUTE).toISOString());

    // 40 minutes on, the last client has been quiet for the whole hour: safe, by id or by name.
    deps.clock.advance(40 * MINUTE);
    const later = await api.call('GET', '/api/v1/keys/web-2025/rotation', await api.tokenFor('read'));
    expect(later.status).toBe(200);
    expect(later.json.safe_to_revoke).toBe(true);
    expect(later.json.safe_at).toBeNull();

    // One more call on the old key makes it unsafe again.
    const again = [use('a3', 'web-2025', T0 + 39 * MINUTE, '203.0.113.7', 'magic-hour-node/0.71.1')];
    await api.call('POST', '/api/v1/usage', await api.tokenFor('ingest'), { events: again });
    expect((await api.call('GET', `/api/v1/keys/${oldId}/rotation`, admin)).json.safe_to_revoke).toBe(false);
  });

  it('defaults to a day of quiet, tells detection the key is rotating, and audits the pairing', async () => {
    const oldId = await key('old');
    const newId = await key('new');
    const res = await api.call('POST', `/api/v1/keys/${oldId}/rotation`, admin, { new_key_id: 'new' });
    expect(res.json).toMatchObject({ quiet_minutes: 1440, remaining_clients: [], safe_to_revoke: true });
    expect((await loadKeys(deps.db)).find((k) => k.id === oldId)?.rotatingSince).toBe(T0);
    expect((await loadKeys(deps.db)).find((k) => k.id === newId)?.rotatingSince).toBeNull();
    const audit = await api.call('GET', '/api/v1/audit', admin);
    expect(audit.json.entries.map((e: { action: string }) => e.action)).toContain('key.rotation.start');
  });

  it('refuses bad pairings with 400 naming the field, and changes nothing', async () => {
    const oldId = await key('old');
    await key('gone');
    await api.call('POST', '/api/v1/keys/gone/revoke', admin, {});
    const cases = [
      [{ new_key_id: oldId }, 'new_key_id'],
      [{ new_key_id: 'nobody' }, 'new_key_id'],
      [{ new_key_id: 'gone' }, 'new_key_id'],
      [{}, 'new_key_id'],
      [{ new_key_id: 'gone', quiet_minutes: 0 }, 'quiet_minutes'],
      [{ new_key_id: 'gone', extra: 1 }, ''],
    ] as const;
    for (const [body, path] of cases) {
      const res = await api.call('POST', `/api/v1/keys/${oldId}/rotation`, admin, body);
      expect(res.status).toBe(400);
      expect(res.json.error.code).toBe('validation_failed');
      if (path) expect(res.json.error.issues.map((i: { path: string }) => i.path)).toContain(path);
    }
    expect((await api.call('GET', `/api/v1/keys/${oldId}/rotation`, admin)).status).toBe(404);
    expect((await api.call('GET', '/api/v1/keys/nobody/rotation', admin)).status).toBe(404);
    const reader = await api.tokenFor('read');
    expect(
      (await api.call('POST', `/api/v1/keys/${oldId}/rotation`, reader, { new_key_id: 'x' })).status,
    ).toBe(403);
  });
});
