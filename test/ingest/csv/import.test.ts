import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../../server/errors.ts';
import { importCsv, parseFieldMap } from '../../../server/ingest/csv/import.ts';
import { parseCsv } from '../../../server/ingest/csv/parse.ts';
import {
  countRows,
  createTestDeps,
  forEachStore,
  selectRows,
  T0,
  type TestDeps,
} from '../../helpers/store.ts';

let deps: TestDeps;

const iso = (minutes: number) => new Date(T0 - minutes * 60_000).toISOString();
const EXPORT = [
  'timestamp,api_key,cost,endpoint,http_status',
  `${iso(30)},prod-web,120,face-swap,200`,
  `${iso(20)},prod-web,5,ai-image-generator,200`,
  `${iso(10)},"batch, nightly",0,face-swap,401`,
].join('\r\n');
const MAP = parseFieldMap('ts=timestamp,key=api_key,credits=cost,operation=endpoint,status=http_status');
const totals = async () =>
  (
    await selectRows<{ n: number; credits: number }>(
      deps,
      "SELECT count(*) AS n, sum(credits) AS credits FROM usage_events WHERE source = 'csv'",
    )
  )[0]!;

async function rejection(fn: () => Promise<unknown>): Promise<AppError> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error('expected the import to be rejected');
}

forEachStore((_kind, open) => {
  beforeEach(async () => {
    deps = await open();
  });
  afterEach(() => deps.cleanup());

  describe('CSV import', () => {
    it('maps columns, stores the events and is idempotent on re-import', async () => {
      const first = await importCsv(deps, EXPORT, { map: MAP, sourceName: 'export.csv' });
      expect(first).toMatchObject({ rows: 3, accepted: 3, duplicates: 0, keys: 2, from: T0 - 30 * 60_000 });
      expect(first.discovered.sort()).toEqual(['batch, nightly', 'prod-web']);
      expect(await totals()).toEqual({ n: 3, credits: 125 });
      const again = await importCsv(deps, EXPORT, { map: MAP, sourceName: 'export.csv' });
      expect(again).toMatchObject({ accepted: 0, duplicates: 3 });
      // A longer export of the same data adds only the new rows.
      const longer = `${EXPORT}\r\n${iso(5)},prod-web,50,lip-sync,200`;
      expect(await importCsv(deps, longer, { map: MAP, sourceName: 'export.csv' })).toMatchObject({
        accepted: 1,
        duplicates: 3,
      });
      expect(await totals()).toEqual({ n: 4, credits: 175 });
      expect(await selectRows(deps, 'SELECT sum(auth_failures) AS a FROM usage_day')).toEqual([{ a: 1 }]);
    });

    it('uses an id column when mapped, so row order does not matter', async () => {
      const csv = ['event,ts,key,credits', `e1,${iso(3)},k,1`, `e2,${iso(2)},k,2`].join('\n');
      const map = parseFieldMap('id=event');
      await importCsv(deps, csv, { map, sourceName: 'a' });
      const reordered = ['event,ts,key,credits', `e2,${iso(2)},k,2`, `e1,${iso(3)},k,1`].join('\n');
      expect(await importCsv(deps, reordered, { map, sourceName: 'a' })).toMatchObject({
        accepted: 0,
        duplicates: 2,
      });
    });

    it('rejects the whole file, naming every bad row by line, and stores nothing', async () => {
      const bad = [
        'timestamp,api_key,cost,endpoint,http_status',
        `${iso(30)},prod-web,120,face-swap,200`,
        `yesterday,prod-web,5,face-swap,200`,
        `${iso(10)},prod-web,-3,face-swap,200`,
        `${iso(10)},prod-web,3,face-swap`,
        `${iso(10)},,3,face-swap,200`,
      ].join('\n');
      const e = await rejection(() => importCsv(deps, bad, { map: MAP, sourceName: 'bad.csv' }));
      expect(e.status).toBe(400);
      const lines = e.issues!.map((i) => i.path);
      expect(lines).toEqual(['line 3', 'line 4', 'line 5', 'line 6']);
      expect(e.issues![1]!.message).toMatch(/credits \(column "cost"\)/);
      expect((await totals()).n).toBe(0);
      expect(await countRows(deps, 'keys')).toBe(0);
    });

    it('reports a header without the mapped columns and a bad map', async () => {
      const e = await rejection(() => importCsv(deps, 'a,b\n1,2', { map: MAP, sourceName: 'x' }));
      expect(e.issues!.map((i) => i.message).join(' ')).toMatch(/no column "timestamp"/);
      expect(() => parseFieldMap('when=timestamp')).toThrow(AppError);
    });

    it('reads quoted fields with commas, quotes and newlines, and reports an unclosed quote by line', async () => {
      const records = [...parseCsv('a,b\n"x, ""y""","multi\nline"\n\n3,4')];
      expect(records).toEqual([
        { line: 1, fields: ['a', 'b'] },
        { line: 2, fields: ['x, "y"', 'multi\nline'] },
        { line: 5, fields: ['3', '4'] },
      ]);
      const e = await rejection(() => importCsv(deps, 'ts,key\n"oops,k', { map: {}, sourceName: 'x' }));
      expect(e.issues).toEqual([{ path: 'line 2', message: 'a quoted field is never closed' }]);
    });
  });
});

describe('keywatch import csv (CLI)', () => {
  beforeEach(() => {
    deps = createTestDeps();
  });
  afterEach(() => deps.cleanup());

  const cli = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'server/cli/index.ts', 'import', 'csv', ...args], {
      env: {
        ...process.env,
        KEYWATCH_DB: deps.dbPath,
        KEYWATCH_SECRET: 'x'.repeat(40),
        KEYWATCH_LOG_LEVEL: 'silent',
      },
      encoding: 'utf8',
      timeout: 30_000,
    });

  it('prints a summary on stderr and exits 0; exits 1 listing line errors for a bad file', async () => {
    const file = join(deps.dir, 'export.csv');
    writeFileSync(file, EXPORT);
    const map = '--map=ts=timestamp,key=api_key,credits=cost,operation=endpoint,status=http_status';
    const ok = cli(file, map);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toBe('');
    expect(ok.stderr).toMatch(/Imported 3 of 3 rows for 2 key\(s\)/);
    expect(cli(file, map).stderr).toMatch(/Imported 0 of 3 rows .* 3 already stored/);

    writeFileSync(file, `${EXPORT}\nnot-a-time,prod-web,1,face-swap,200`);
    const bad = cli(file, map);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/line 5: ts/);
    expect((await totals()).n).toBe(3);
  });
});
