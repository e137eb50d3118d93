/**
 * bestWindow()'s shortcut: stopping the spend bound once its partial sum shows a window clearly
 * ordinary must never change which p-values are tail events, nor the window that fires.
 */
import { describe, expect, it } from 'vitest';
import { MINUTE } from '../../../../server/clock.ts';
import { bestWindow } from '../../../../server/detection/core/detectors/credit-spike.ts';
import { createKeyState } from '../../../../server/detection/core/state.ts';
import { stepKey } from '../../../../server/detection/core/step.ts';
import { createRng } from '../../../../server/simulate/random.ts';
import { ctxFor, START } from '../../../helpers/detection.ts';

describe('bestWindow', () => {
  it('finds the same tail events when the spend bound stops early as with the full bound', () => {
    const rng = createRng(11);
    const ctx = ctxFor();
    let checked = 0;
    let tail = 0;
    for (let key = 0; key < 6; key++) {
      const state = createKeyState(MINUTE);
      let rate = 0.05;
      for (let t = START; t < START + 3 * 86_400_000; t += MINUTE) {
        if (rng.next() < 0.002) rate = [0, 0.01, 0.05, 0.5, 3][Math.floor(rng.next() * 5)]!;
        const n = rng.poisson(rate);
        const cost = rng.next() < 0.05 ? 400 : 20;
        stepKey(
          state,
          {
            ts: t,
            requests: n,
            credits: n * cost,
            authFailures: 0,
            ops: n ? [{ op: 'x', requests: n, credits: n * cost }] : [],
          },
          ctx,
        );
        // The ring holds this minute: judge it again both ways (bestWindow reads, never writes).
        const e = {
          state,
          bucket: { ts: t, requests: n, credits: n * cost, authFailures: 0, ops: [] },
          ctx,
          expReq: 0,
          expCred: 0,
          warm: true,
        };
        const exact = bestWindow(e, 250, false);
        const quick = bestWindow(e, 250, true);
        if (!exact) {
          expect(quick).toBeNull();
          continue;
        }
        checked++;
        expect(quick!.p).toBeLessThanOrEqual(exact.p);
        if (exact.p < 0.0102 || quick!.p < 0.0102) {
          tail++;
          expect(quick).toEqual(exact);
        }
      }
    }
    expect(checked).toBeGreaterThan(1000);
    expect(tail).toBeGreaterThan(10);
  });
});
