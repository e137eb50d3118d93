/**
 * Body buffers lent with a large answer and given back once it is sent: the pool keeps the largest,
 * and over real HTTP every answer (large, small, at once and one after another) is exactly the
 * bytes the same read writes in this thread, so no buffer is written over while it is being sent.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../../server/auth/tokens.ts';
import { DAY, fakeClock } from '../../server/clock.ts';
import { keepBuffer, takeBuffer } from '../../server/http/body-pool.ts';
import { silentLogger } from '../../server/log.ts';
import { type Running, startServer } from '../../server/serve.ts';
import { parseRangeQuery } from '../../server/usage/range.ts';
import { writeUsageAnswer } from '../../server/usage/usage-reads.ts';
import { dashboardReadTasks } from '../../web/dashboard-reads.ts';
import { T0, type TestDeps, testConfig } from '../helpers/store.ts';
import { mixedUsage, recordUsage } from '../helpers/usage.ts';

describe('the body pool', () => {
  it('keeps the two largest buffers it is given, drops detached and oversized ones', () => {
    while (takeBuffer()) {}
    const sizes = [1_000, 5_000, 3_000];
    for (const n of sizes) keepBuffer(new Uint8Array(n));
    const detached = new Uint8Array(4_000);
    structuredClone(detached.buffer, { transfer: [detached.buffer] });
    keepBuffer(detached);
    keepBuffer(new Uint8Array(9 * 1024 * 1024));
    expect(takeBuffer()?.byteLength).toBe(5_000);
    expect(takeBuffer()?.byteLength).toBe(3_000);
    expect(takeBuffer()).toBeUndefined();
  });
});

describe('answers whose buffers go back and forth between the reads worker and the serving thread', () => {
  let dir: string;
  let running: Running;
  // Four reads in flight per caller (auth/in-flight.ts): three callers to have twelve at once.
  let tokens: string[];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keywatch-body-pool-'));
    running = await startServer(testConfig(dir, { KEYWATCH_DEMO: '0' }), silentLogger, {
      clock: fakeClock(T0),
      announce: () => {},
    });
    // Hourly points of 12 keys over weeks: answers of several hundred KB, lent with their buffer.
    const keys = Array.from({ length: 12 }, (_, i) => `key-${i}`);
    await recordUsage(running.deps as TestDeps, mixedUsage(keys, 6_000, T0));
    tokens = [];
    for (const name of ['a', 'b', 'c'])
      tokens.push((await createApiToken(running.deps, { name, scopes: ['read'], actor: 'test' })).token);
  }, 60_000);
  afterAll(async () => {
    await running?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = async (path: string, caller = 0) => {
    const res = await fetch(`${running.url}${path}`, {
      headers: { authorization: `Bearer ${tokens[caller % tokens.length]}` },
    });
    expect(res.status, path).toBe(200);
    return new Uint8Array(await res.arrayBuffer());
  };
  const text = (b: Uint8Array) => new TextDecoder().decode(b);

  it('sends every answer whole and unchanged, one after another and many at once', async () => {
    const queries = [14, 21, 28, 35, 1].map((days) => `step=hour&group=key&from=${T0 - days * DAY}&to=${T0}`);
    const expected = new Map<string, string>();
    for (const q of queries) {
      const range = parseRangeQuery(Object.fromEntries(new URLSearchParams(q)), T0);
      expected.set(`/api/v1/usage?${q}`, text(await writeUsageAnswer(running.deps, range)));
      expected.set(`/export/usage.csv?${q}`, text(await dashboardReadTasks.usageCsv(running.deps, range)));
    }
    // Large enough to be lent (more than 256 KB), and small ones between them.
    expect(expected.get(`/api/v1/usage?${queries[3]}`)!.length).toBeGreaterThan(600_000);
    expect(expected.get(`/api/v1/usage?${queries[4]}`)!.length).toBeLessThan(100_000);
    const paths = [...expected.keys()];
    for (let round = 0; round < 3; round++)
      for (const p of paths) expect(text(await get(p)), p).toBe(expected.get(p));
    const twelve = [...paths, ...paths].slice(0, 12);
    const together = await Promise.all(twelve.map(async (p, i) => [p, text(await get(p, i))] as const));
    for (const [p, body] of together) expect(body, p).toBe(expected.get(p));
  }, 60_000);
});
