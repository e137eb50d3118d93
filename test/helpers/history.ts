/** Ten days of stored history for two keys, with a burst of video renders on day 9. */
import { DAY, HOUR, MINUTE } from '../../server/clock.ts';
import { createKey } from '../../server/keys/keys.ts';
import { createRng } from '../../server/simulate/random.ts';
import type { UsageEvent } from '../../server/usage/record-events.ts';

import type { TestDeps } from './store.ts';
import { recorderOf } from './usage.ts';

/** Records usage through the store's own write path, as one batch. */
export function recordUsage(deps: TestDeps, events: readonly UsageEvent[]) {
  return recorderOf(deps).record(events);
}

export const START = Date.UTC(2026, 9, 1);
export const END = START + 10 * DAY;
export const SPIKE = START + 9 * DAY + 14 * HOUR;

/** Two keys: a busy one with a spike of video renders on day 9, and a sparse office-hours one. */
export async function seedHistory(deps: TestDeps): Promise<void> {
  for (const name of ['busy', 'sparse'])
    await createKey({ ...deps, secret: deps.config.secret }, { name, created_at: START }, 'test');
  const rng = createRng(11);
  const events: UsageEvent[] = [];
  let n = 0;
  for (let t = START; t < END; t += MINUTE) {
    const h = new Date(t).getUTCHours();
    const add = (key: string, rate: number, credits: number, ip: string) => {
      for (let k = rng.poisson(rate); k > 0; k--) {
        events.push({
          source: 'test',
          eventId: `e${n++}`,
          key: { by: 'ref', value: key },
          ts: t + 1000,
          credits,
          requests: 1,
          status: 200,
          operation: credits > 100 ? 'video-to-video' : 'ai-image-generator',
          sourceIp: ip,
          userAgent: 'magic-hour-node/0.43.1',
        });
      }
    };
    add('busy', 0.5, 10, '203.0.113.10');
    if (h >= 9 && h < 17) add('sparse', 0.03, 10, '192.0.2.7');
    if (t >= SPIKE && t < SPIKE + 40 * MINUTE) add('busy', 2, 900, '198.51.100.66');
  }
  await recordUsage(deps, events);
}
