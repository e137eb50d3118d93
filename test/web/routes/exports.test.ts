/** CSV text and the export endpoints. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { csvCell, csvLines } from '../../../web/csv.ts';
import { createTestApi } from '../../helpers/api.ts';
import { addKey, insertUnroundedIncident } from '../../helpers/incident-fixtures.ts';
import { createTestDeps, T0, type TestDeps } from '../../helpers/store.ts';

describe('CSV text', () => {
  it('quotes commas, quotes and newlines, and defuses formulas', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('=HYPERLINK("x")')).toBe('"\'=HYPERLINK(""x"")"');
    expect(csvCell(-3.5)).toBe('-3.5');
    expect(csvCell(null)).toBe('');
    expect([...csvLines(['a', 'b'], [[1, 'x,y']])].join('')).toBe('a,b\r\n1,"x,y"\r\n');
  });
});

describe('/export', () => {
  let deps: TestDeps;
  let api: ReturnType<typeof createTestApi>;
  beforeEach(() => {
    deps = createTestDeps();
    api = createTestApi(deps);
  });
  afterEach(() => deps.cleanup());

  it('exports usage per key and hour with exact sums, and needs credentials', async () => {
    const ingest = await api.tokenFor('ingest');
    const events = [
      { id: 'a', key: 'web,prod', ts: T0 - 2 * 3_600_000 + 5, credits: 10 },
      { id: 'b', key: 'web,prod', ts: T0 - 3_600_000 + 5, credits: 7 },
      { id: 'c', key: 'batch', ts: T0 - 3_600_000 + 9, credits: 100 },
    ];
    expect((await api.call('POST', '/api/v1/usage', ingest, { events })).status).toBe(200);
    expect((await api.call('GET', '/export/usage.csv?step=hour', null)).status).toBe(401);
    const from = new Date(T0 - 3 * 3_600_000).toISOString();
    const to = new Date(T0).toISOString();
    const res = await api.call(
      'GET',
      `/export/usage.csv?step=hour&group=key&from=${from}&to=${to}`,
      await api.tokenFor('read'),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/csv');
    const lines = (res.json as string).trim().split('\r\n');
    expect(lines[0]).toBe('key,ts,credits,requests,errors,auth_failures');
    expect(lines).toHaveLength(1 + 2 * 3);
    expect(lines).toContain(`"web,prod",${new Date(T0 - 2 * 3_600_000).toISOString()},10,1,0,0`);
    expect(lines[1]).toMatch(/^batch,/);
  });

  it('exports months of KEYWATCH_TZ from the first month with usage, the current one marked partial', async () => {
    const zoned = createTestDeps({ KEYWATCH_TZ: 'America/New_York' });
    try {
      const zapi = createTestApi(zoned);
      // Nov 1 00:30 in New York is 04:30 UTC: November there, and still November in UTC too;
      // Oct 31 23:30 in New York is Nov 1 03:30 UTC: October there, November in UTC.
      const events = [
        { id: 'oct', key: 'web', ts: Date.UTC(2026, 10, 1, 3, 30), credits: 40 },
        { id: 'nov', key: 'web', ts: Date.UTC(2026, 10, 1, 4, 30), credits: 7 },
      ];
      expect(
        (await zapi.call('POST', '/api/v1/usage', await zapi.tokenFor('ingest'), { events })).status,
      ).toBe(200);
      const res = await zapi.call(
        'GET',
        '/export/usage.csv?step=month&group=key',
        await zapi.tokenFor('read'),
      );
      expect(res.status).toBe(200);
      const lines = (res.json as string).trim().split('\r\n');
      // No leading zero months: the export starts in October, where the data does.
      expect(lines).toEqual([
        'key,month,partial,credits,requests,errors,auth_failures',
        'web,2026-10,no,40,1,0,0',
        'web,2026-11,yes,7,1,0,0',
      ]);
      const bad = await zapi.call(
        'GET',
        '/export/usage.csv?step=month&group=colour',
        await zapi.tokenFor('read'),
      );
      expect(bad.status).toBe(400);
      expect(bad.json.error.issues[0].path).toBe('group');
    } finally {
      zoned.cleanup();
    }
  });

  it('writes incidents.csv with measured amounts rounded to two decimals', async () => {
    const keyId = await addKey(deps, 'web');
    await insertUnroundedIncident(deps, 'inc_round', keyId, T0);
    const res = await api.call('GET', '/export/incidents.csv', await api.tokenFor('read'));
    const row = (res.json as string).trim().split('\r\n')[1] ?? '';
    expect(row).toContain(',127.7,12,115.7,');
  });
});
