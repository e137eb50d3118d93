/** /readyz: 200 when the database answers with every migration applied, 503 (with why) otherwise. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApi } from '../helpers/api.ts';
import { createTestDeps, type TestDeps } from '../helpers/store.ts';

let deps: TestDeps;
beforeEach(() => {
  deps = createTestDeps();
});
afterEach(() => deps.cleanup());

describe('/readyz', () => {
  it('is ready on a migrated database, without credentials', async () => {
    const res = await createTestApi(deps).app.request('/readyz');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ready: true });
  });

  it("shows the gateway's backlog: queued, journaled on disk, dropped", async () => {
    const res = await createTestApi(deps).app.request('/readyz');
    expect((await res.json()).gateway_queue).toEqual({
      size: 0,
      capacity: 50_000,
      dropped: 0,
      journaled: 0,
      last_error: null,
    });
  });

  it('is not ready when a migration is missing, and says so', async () => {
    deps.sqlite.exec(
      'DELETE FROM __drizzle_migrations WHERE created_at = (SELECT max(created_at) FROM __drizzle_migrations)',
    );
    const res = await createTestApi(deps).app.request('/readyz');
    expect(res.status).toBe(503);
    const body = await res.json();
    expect(body.detail).toMatch(/migrations applied/);
    expect(body.ready).toBe(false);
    // Every non-2xx answer carries the API's error body (API.md, Errors).
    expect(body.error).toEqual({ code: 'not_ready', message: expect.stringMatching(/migrations applied/) });
  });
});
