/**
 * On both stores, what the reads workers send is what their tasks give on the serving thread's
 * own connection: the usage API, the CSV exports and the /keys and /capacity pages.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DAY } from '../../server/clock.ts';
import { parseRangeQuery } from '../../server/usage/range.ts';
import { writeUsageAnswer } from '../../server/usage/usage-reads.ts';
import { dashboardReadTasks } from '../../web/dashboard-reads.ts';
import { createTestApi } from '../helpers/api.ts';
import { forEachStore, T0, type TestDeps } from '../helpers/store.ts';
import { mixedUsage, recordUsage } from '../helpers/usage.ts';

let deps: TestDeps;
let api: ReturnType<typeof createTestApi>;
let read: string;

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

forEachStore((_kind, open) => {
  beforeEach(async () => {
    deps = await open();
    api = createTestApi(deps);
    read = await api.tokenFor('read');
    await recordUsage(deps, mixedUsage(['web', 'batch', 'cron,"x"', 'ünïcode'], 240, T0));
  }, 60_000);
  afterEach(() => deps.cleanup());

  describe('reads on their workers', () => {
    it('send the same bytes their tasks write in this thread', async () => {
      const get = async (path: string) => {
        const res = await api.app.request(path, { headers: { authorization: `Bearer ${read}` } });
        expect(res.status, path).toBe(200);
        return res.text();
      };
      const from = T0 - 40 * DAY;
      for (const q of [
        `step=day&from=${from}&to=${T0}`,
        `step=day&group=key&from=${from}&to=${T0}`,
        'step=hour&group=operation&top=1',
      ]) {
        const range = parseRangeQuery(Object.fromEntries(new URLSearchParams(q)), T0);
        expect(await get(`/api/v1/usage?${q}`)).toBe(text(await writeUsageAnswer(deps, range)));
        expect(await get(`/export/usage.csv?${q}`)).toBe(
          text(await dashboardReadTasks.usageCsv(deps, range)),
        );
      }
      expect(await get('/export/usage.csv?step=month&group=key')).toBe(
        text(await dashboardReadTasks.monthlyCsv(deps, { group: 'key' })),
      );
      const keysCsv = await get('/export/keys.csv');
      expect(keysCsv).toBe(text(await dashboardReadTasks.keysCsv(deps)));
      expect(keysCsv).toContain('ünïcode');
      expect(await dashboardReadTasks.keysPage(deps, { page: 1 })).toMatchObject({ total: 4 });
      const months = await dashboardReadTasks.capacityMonths(deps, { top: 2 });
      expect(Object.keys(months)).toEqual(['key', 'environment', 'operation']);
    });
  });
});
