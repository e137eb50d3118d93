/**
 * The exports, the keys list and the overview's, /keys' and /capacity's data are read on the
 * dashboard's reads worker, not on the serving thread.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSession } from '../../server/auth/sessions.ts';
import { addUser } from '../../server/auth/users.ts';
import { DAY } from '../../server/clock.ts';
import { createTestApi } from '../helpers/api.ts';
import { insertUnroundedIncident } from '../helpers/incident-fixtures.ts';
import {
  dropTempTables,
  hideTablesFromServingThread,
  hideUsageFromServingThread,
} from '../helpers/serving-thread.ts';
import { createTestDeps, T0, type TestDeps } from '../helpers/store.ts';
import { mixedUsage, recordUsage } from '../helpers/usage.ts';

let deps: TestDeps;
let api: ReturnType<typeof createTestApi>;
let read: string;

beforeEach(async () => {
  deps = createTestDeps();
  api = createTestApi(deps);
  read = await api.tokenFor('read');
  await recordUsage(deps, mixedUsage(['web', 'batch', 'cron,"x"'], 300, T0));
});
afterEach(() => deps.cleanup());

const csvOf = async (path: string) => {
  const res = await api.call('GET', path, read);
  expect(res.status, path).toBe(200);
  return {
    text: res.json as string,
    type: res.headers.get('content-type'),
    file: res.headers.get('content-disposition'),
  };
};

describe('/export on the reads worker', () => {
  it('answers usage and keys CSVs the serving thread can no longer see', async () => {
    const paths = [
      `/export/usage.csv?step=day&from=${T0 - 30 * DAY}&to=${T0}`,
      `/export/usage.csv?step=day&group=key&from=${T0 - 30 * DAY}&to=${T0}`,
      '/export/usage.csv?step=hour&group=operation',
      '/export/usage.csv?step=month',
      '/export/usage.csv?step=month&group=key',
      '/export/keys.csv',
    ];
    const before = [];
    for (const p of paths) before.push(await csvOf(p));
    // Real rows, so an empty answer below could not pass for them.
    expect(before[1]!.text.split('\r\n').length).toBeGreaterThan(90);
    expect(before[4]!.text).toContain('"cron,""x""",');
    expect(before[5]!.text).toContain('batch');

    hideUsageFromServingThread(deps);
    for (const [i, p] of paths.entries()) expect(await csvOf(p)).toEqual(before[i]);
  });

  it('answers one key’s usage from the worker once the route has found the key', async () => {
    const path = `/export/key-usage.csv?key=web&step=day&from=${T0 - 30 * DAY}&to=${T0}`;
    const before = await csvOf(path);
    expect(before.text).toMatch(/Z,[1-9]\d*,[1-9]\d*,/);
    const hidden = hideUsageFromServingThread(deps, { keys: false });
    expect(await csvOf(path)).toEqual(before);
    dropTempTables(deps, hidden);
  });

  it('answers incidents and audit CSVs from the worker', async () => {
    const [key] = (await deps.sqlite
      .prepare("SELECT id FROM keys WHERE name = 'web'")
      .pluck()
      .all()) as string[];
    await insertUnroundedIncident(deps, 'inc_1', key!, T0);
    const admin = await api.tokenFor('admin');
    const get = async (path: string) => {
      const res = await api.call('GET', path, admin);
      expect(res.status, path).toBe(200);
      return res.json as string;
    };
    const before = [await get('/export/incidents.csv?state=open'), await get('/export/audit.csv')];
    expect(before[0]).toContain(',127.7,12,115.7,');
    expect(before[1]).toContain('token');
    hideTablesFromServingThread(deps, ['incidents', 'audit_log']);
    expect([await get('/export/incidents.csv?state=open'), await get('/export/audit.csv')]).toEqual(before);
  });

  it('refuses bad queries on the serving thread with the same 400s', async () => {
    const month = await api.call('GET', '/export/usage.csv?step=month&group=nope', read);
    expect(month.status).toBe(400);
    expect(month.json.error.issues[0].path).toBe('group');
    const step = await api.call('GET', '/export/usage.csv?step=week', read);
    expect(step.status).toBe(400);
    expect(step.json.error.issues[0].path).toBe('step');
    expect((await api.call('GET', '/export/key-usage.csv?key=nobody', read)).status).toBe(404);
    const days = await api.call('GET', '/export/incidents.csv?days=0', read);
    expect(days.status).toBe(400);
    expect(days.json.error.issues[0].path).toBe('days');
  });
});

describe('the pages and the keys list on the reads worker', () => {
  it('renders the overview, /keys and /capacity from data the serving thread can no longer see', async () => {
    const { user } = await addUser(
      deps,
      { email: 'a@example.com', role: 'admin', password: 'correct horse battery' },
      't',
    );
    const { cookieValue } = await createSession(deps, user.id);
    const page = async (path: string) => {
      const res = await api.app.request(path, { headers: { cookie: `kw_session=${cookieValue}` } });
      expect(res.status, path).toBe(200);
      return res.text();
    };
    const paths = ['/', '/keys', '/keys?page=2', '/capacity'];
    const before = [];
    for (const p of paths) before.push(await page(p));
    // The overview's month card and top keys name them.
    expect(before[0]!.match(/>batch</g)?.length).toBeGreaterThanOrEqual(2);
    expect(before[1]).toContain('batch');
    expect(before[3]).toContain('face-swap');

    hideUsageFromServingThread(deps);
    for (const [i, p] of paths.entries()) expect(await page(p)).toBe(before[i]);
  });

  it('answers GET /api/v1/keys from keys the serving thread can no longer see', async () => {
    const names = async () => {
      const res = await api.call('GET', '/api/v1/keys', read);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json');
      return (res.json as { keys: { name: string }[] }).keys.map((k) => k.name);
    };
    expect(await names()).toEqual(['batch', 'cron,"x"', 'web']);
    hideUsageFromServingThread(deps);
    expect(await names()).toEqual(['batch', 'cron,"x"', 'web']);
  });
});
