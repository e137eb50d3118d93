/** The scheduled detection job judges minutes once they are closed (plus a grace minute) and only once. */
import { afterEach, describe, expect, it } from 'vitest';
import { MINUTE } from '../../server/clock.ts';
import { readCursor } from '../../server/detection/run-detection.ts';
import { createJobs } from '../../server/jobs/index.ts';
import { END, seedHistory } from '../detect/history.ts';
import { createTestDeps, type TestDeps } from '../helpers/store.ts';

describe('detect job', () => {
  let deps: TestDeps;
  afterEach(() => deps.cleanup());

  it('is registered, runs every minute and advances the cursor to the last closed minute', async () => {
    deps = createTestDeps();
    seedHistory(deps);
    const job = createJobs(deps).find((j) => j.name === 'detect');
    expect(job?.everyMs).toBe(MINUTE);
    deps.clock.set(END + 30_000);
    await job!.run();
    expect(readCursor(deps)).toBe(END - MINUTE);
    const incidents = (deps.sqlite.prepare('SELECT count(*) AS n FROM incidents').get() as { n: number }).n;
    expect(incidents).toBeGreaterThan(0);
    deps.clock.advance(MINUTE);
    await job!.run();
    expect(readCursor(deps)).toBe(END);
    expect((deps.sqlite.prepare('SELECT count(*) AS n FROM incidents').get() as { n: number }).n).toBe(
      incidents,
    );
  });
});
