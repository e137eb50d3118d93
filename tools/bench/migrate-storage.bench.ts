/**
 * `npm run bench migrate-storage [-- --db FILE]`: copies a SQLite database (default: the scale
 * bench's small dataset, 40 keys x 60 days) into a fresh PostgreSQL cluster, as
 * `keywatch migrate-storage` does, and prints rows/s. Baseline: the default copy (5,000 rows per
 * statement); beside it, in the same run, 100 rows per statement, the baseline once more (the spread
 * between identical runs), and for scale a plain SQLite scan of the same rows (the read side alone).
 * Building secondary indexes after each table instead of row by row was tried and measured no faster
 * here (0.84x to 1.00x of keeping them), so the copy keeps them.
 * The input file is copied first and never modified.
 */
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { getTableConfig } from 'drizzle-orm/pg-core';
import { openStore } from '../../server/db/client.ts';
import { openPgStore } from '../../server/db/pg/client.ts';
import { copySqliteToPg, tablesInDependencyOrder } from '../../server/db/pg/copy-from-sqlite.ts';
import { postgresAvailable, startPgCluster } from '../../test/helpers/postgres.ts';

const { values } = parseArgs({
  options: { db: { type: 'string', default: '/tmp/keywatch-scale-k40-d60-s14-2026-12-01.db' } },
});
const source = values.db!;
if (!existsSync(source)) {
  console.error(`No dataset at ${source}: run \`npm run bench scale\` first (or pass --db FILE).`);
  process.exit(1);
}
if (!postgresAvailable()) process.exit(1);

const dir = mkdtempSync(join(tmpdir(), 'keywatch-bench-migrate-'));
const file = join(dir, 'copy.db');
copyFileSync(source, file);
const store = openStore(file, { progress: () => {} });
const cluster = await startPgCluster();
try {
  // The read side alone: every row of every copied table, scanned from SQLite.
  let t = performance.now();
  let scanned = 0;
  for (const table of tablesInDependencyOrder()) {
    const name = getTableConfig(table).name;
    for (const _ of store.sqlite.prepare(`SELECT * FROM "${name}"`).raw().iterate()) scanned++;
  }
  const scanRate = scanned / ((performance.now() - t) / 1000);

  const run = async (options: { batchRows?: number }) => {
    const pgStore = await openPgStore(await cluster.createDatabase(), { max: 2 });
    try {
      t = performance.now();
      const report = await copySqliteToPg(store.sqlite, pgStore.pool, options);
      return { rows: report.rows, seconds: (performance.now() - t) / 1000, report };
    } finally {
      await pgStore.close();
    }
  };
  const variants = [
    { label: '5000 rows/INSERT (default, baseline)', options: {} },
    { label: '100 rows/INSERT', options: { batchRows: 100 } },
    // The same as the baseline again: how far apart two identical runs land on this machine.
    { label: '5000 rows/INSERT (again)', options: {} },
  ];
  const results = [];
  for (const v of variants) results.push({ ...v, ...(await run(v.options)) });
  const rate = (r: { rows: number; seconds: number }) => Math.round(r.rows / r.seconds);
  const measured = results[0]!;
  console.log(
    `dataset ${source}: ${measured.rows.toLocaleString('en-US')} rows in ${measured.report.tables.length} tables`,
  );
  for (const tbl of measured.report.tables.filter((x) => x.rows > 10_000)) {
    const perSecond = Math.round(tbl.rows / (tbl.ms / 1000)).toLocaleString('en-US');
    console.log(
      `  ${tbl.name.padEnd(20)} ${tbl.rows.toLocaleString('en-US').padStart(10)} rows ${perSecond.padStart(9)} rows/s`,
    );
  }
  console.log(`sqlite scan only: ${Math.round(scanRate).toLocaleString('en-US')} rows/s`);
  const base = rate(results[0]!);
  for (const r of results) {
    console.log(
      `${r.label.padEnd(42)} ${rate(r).toLocaleString('en-US').padStart(8)} rows/s ${r.seconds.toFixed(1).padStart(6)} s  ${(rate(r) / base).toFixed(2)}x baseline`,
    );
  }
} finally {
  store.close();
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
}
