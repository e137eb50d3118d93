/** The scheduled detection job judges minutes once closed (plus a grace minute), only once, a bounded amount per tick. */
import { afterEach, describe, expect, it } from 'vitest';
import { DAY, MINUTE } from '../../server/clock.ts';
import { readCursor } from '../../server/detection/run-detection.ts';
import { createJobs } from '../../server/jobs/index.ts';
import { END, START, seedHistory } from '../helpers/history.ts';
import { createTestDeps, type TestDeps } from '../helpers/store.ts';

describe('detect job', () => {
  let deps: TestDeps;
  afterEach(() => deps.cleanup());

  it('is registered, runs every minute and advances the cursor to the last closed minute', async () => {
    deps = createTestDeps();
    await seedHistory(deps);
    const job = createJobs(deps).find((j) => j.name === 'detect');
    expect(job?.everyMs).toBe(MINUTE);
    deps.clock.set(END + 30_000);
    await job!.run();
    // A long catch-up goes a day per tick, so the server never blocks for long.
    expect(await readCursor(deps)).toBeGreaterThan(START + DAY - MINUTE);
    expect(await readCursor(deps)).toBeLessThan(START + DAY + 10 * MINUTE);
    for (let i = 0; i < 20 && (await readCursor(deps)) !== END - MINUTE; i++) await job!.run();
    expect(await readCursor(deps)).toBe(END - MINUTE);
    const incidents = (deps.sqlite.prepare('SELECT count(*) AS n FROM incidents').get() as { n: number }).n;
    expect(incidents).toBeGreaterThan(0);
    deps.clock.advance(MINUTE);
    await job!.run();
    expect(await readCursor(deps)).toBe(END);
    expect((deps.sqlite.prepare('SELECT count(*) AS n FROM incidents').get() as { n: number }).n).toBe(
      incidents,
    );
  });
});
