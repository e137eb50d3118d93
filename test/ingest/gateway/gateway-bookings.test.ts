/**
 * What the gateway books, on either store: every answer is recorded by the writer thread (never
 * inline), and the final credits a GET project shows are booked on the key that created the
 * project, once.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeMagicHour, startFakeMagicHour } from '../../helpers/fake-magichour.ts';
import { type RunningApp, startApp } from '../../helpers/sources.ts';
import { forEachStore, selectRows, type TestDeps } from '../../helpers/store.ts';

const KEY = 'mhk_live_gatewaypg_cd34';

describe('what the gateway books', () =>
  forEachStore((_kind, open) => {
    let fake: FakeMagicHour;
    let deps: TestDeps;
    let app: RunningApp;

    beforeEach(async () => {
      fake = await startFakeMagicHour();
      fake.keys.add(KEY);
      deps = await open({ MAGICHOUR_BASE_URL: fake.url });
      app = await startApp(deps, { timeoutMs: 2_000 });
    });
    afterEach(async () => {
      await app.close();
      await fake.close();
      deps.cleanup();
    });

    const gw = (path: string, init: RequestInit = {}, key = KEY) =>
      fetch(`${app.url}/gw/magichour${path}`, {
        ...init,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      });
    const minuteTotals = async () =>
      (
        await selectRows<{ credits: number; requests: number; errors: number; auth_failures: number }>(
          deps,
          'SELECT sum(credits) AS credits, sum(requests) AS requests, sum(errors) AS errors, sum(auth_failures) AS auth_failures FROM usage_minute',
        )
      )[0]!;

    it('books the final credits a GET project reports on the key that created it, once', async () => {
      const created = (await (
        await gw('/v1/text-to-video', { method: 'POST', body: JSON.stringify({ end_seconds: 5 }) })
      ).json()) as { id: string; credits_charged: number };
      expect(created.credits_charged).toBe(120);
      const project = (await (await gw(`/v1/video-projects/${created.id}`)).json()) as {
        credits_charged: number;
      };
      expect(project.credits_charged).toBe(96);
      await app.flush();
      expect(await minuteTotals()).toEqual({ credits: 96, requests: 2, errors: 0, auth_failures: 0 });
      const [row] = await selectRows<{ key: string; final_credits: number }>(
        deps,
        `SELECT k.name AS key, p.final_credits FROM projects p JOIN keys k ON k.id = p.key_id WHERE p.id = '${created.id}'`,
      );
      expect(row).toEqual({ key: 'discovered-cd34', final_credits: 96 });
      const operations = await selectRows<{ operation: string }>(
        deps,
        "SELECT operation FROM usage_events WHERE source = 'gateway' ORDER BY operation",
      );
      expect(operations.map((e) => e.operation)).toEqual(['text-to-video', 'video-projects']);
      // Asking again changes nothing: the correction is booked once.
      await gw(`/v1/video-projects/${created.id}`);
      await app.flush();
      expect((await minuteTotals()).credits).toBe(96);
    });

    it('records refusals as errors without credits, a 401 as an auth failure', async () => {
      expect((await gw('/v1/face-swap', { method: 'POST', body: '{}' }, 'mhk_live_wrong_zz99')).status).toBe(
        401,
      );
      fake.troubleNext({ kind: 'status', status: 429 });
      expect((await gw('/v1/face-swap', { method: 'POST', body: '{}' })).status).toBe(429);
      await app.flush();
      expect(await minuteTotals()).toEqual({ credits: 0, requests: 2, errors: 2, auth_failures: 1 });
      const statuses = await selectRows<{ status: number; credits: number }>(
        deps,
        "SELECT status, credits FROM usage_events WHERE source = 'gateway' ORDER BY status",
      );
      expect(statuses).toEqual([
        { status: 401, credits: 0 },
        { status: 429, credits: 0 },
      ]);
    });
  }));
