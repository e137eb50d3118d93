/** /api/v1/users, /api/v1/tokens and /api/v1/audit: admin only, tokens shown once, audited. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApi } from '../helpers/api.ts';
import { createTestDeps, type TestDeps } from '../helpers/store.ts';

let deps: TestDeps;
let api: ReturnType<typeof createTestApi>;
let admin: string;

beforeEach(async () => {
  deps = createTestDeps();
  api = createTestApi(deps);
  admin = await api.tokenFor('admin');
});
afterEach(() => deps.cleanup());

describe('users', () => {
  it('adds a user with a generated password shown once, and lists users without hashes', async () => {
    const created = await api.call('POST', '/api/v1/users', admin, {
      email: 'Viewer@Example.com',
      role: 'viewer',
    });
    expect(created.status).toBe(201);
    expect(created.json.user).toMatchObject({ email: 'viewer@example.com', role: 'viewer' });
    expect(created.json.password).toMatch(/^\S{16,}$/);
    const listed = await api.call('GET', '/api/v1/users', admin);
    expect(listed.json.users.map((u: { email: string }) => u.email)).toEqual(['viewer@example.com']);
    expect(JSON.stringify(listed.json)).not.toContain('scrypt');
    const duplicate = await api.call('POST', '/api/v1/users', admin, {
      email: 'viewer@example.com',
      role: 'admin',
    });
    expect(duplicate.status).toBe(409);
  });

  it('validates input and refuses read tokens', async () => {
    const bad = await api.call('POST', '/api/v1/users', admin, { email: 'nope', role: 'root' });
    expect(bad.status).toBe(400);
    expect(bad.json.error.issues.map((i: { path: string }) => i.path).sort()).toEqual(['email', 'role']);
    expect((await api.call('GET', '/api/v1/users', await api.tokenFor('read'))).status).toBe(403);
  });
});

describe('tokens', () => {
  it('creates a token shown once, lists only its last 4, and revokes it', async () => {
    const created = await api.call('POST', '/api/v1/tokens', admin, { name: 'ci-push', scopes: ['ingest'] });
    expect(created.status).toBe(201);
    const secret: string = created.json.token;
    expect(created.json.api_token).toMatchObject({
      name: 'ci-push',
      scopes: ['ingest'],
      last4: secret.slice(-4),
    });
    const listed = await api.call('GET', '/api/v1/tokens', admin);
    expect(JSON.stringify(listed.json)).not.toContain(secret);
    const push = { events: [{ id: 'e1', key: 'k', credits: 1 }] };
    expect((await api.call('POST', '/api/v1/usage', secret, push)).status).toBe(200);
    const revoked = await api.call('POST', `/api/v1/tokens/${created.json.api_token.id}/revoke`, admin);
    expect(revoked.json.api_token.revoked_at).not.toBeNull();
    // A retry answers the same token and leaves one audit entry.
    const again = await api.call('POST', `/api/v1/tokens/${created.json.api_token.id}/revoke`, admin);
    expect(again.json.api_token).toEqual(revoked.json.api_token);
    const audited = deps.sqlite
      .prepare("SELECT count(*) AS n FROM audit_log WHERE action = 'token.revoke'")
      .get();
    expect(audited).toEqual({ n: 1 });
    expect((await api.call('POST', '/api/v1/usage', secret, push)).status).toBe(401);
    expect((await api.call('POST', '/api/v1/tokens/99999/revoke', admin)).status).toBe(404);
  });

  it('rejects unknown scopes', async () => {
    const bad = await api.call('POST', '/api/v1/tokens', admin, { name: 'x', scopes: ['root'] });
    expect(bad.status).toBe(400);
  });
});

describe('audit', () => {
  it('lists changes newest first and pages with before', async () => {
    await api.call('POST', '/api/v1/tokens', admin, { name: 'one', scopes: ['read'] });
    await api.call('POST', '/api/v1/users', admin, { email: 'a@example.com', role: 'viewer' });
    const all = await api.call('GET', '/api/v1/audit', admin);
    const actions = all.json.entries.map((e: { action: string }) => e.action);
    expect(actions.slice(0, 2)).toEqual(['user.add', 'token.create']);
    const page = await api.call('GET', `/api/v1/audit?limit=1&before=${all.json.entries[0].id}`, admin);
    expect(page.json.entries).toHaveLength(1);
    expect(page.json.entries[0].action).toBe('token.create');
    expect((await api.call('GET', '/api/v1/audit?limit=0', admin)).status).toBe(400);
  });
});
