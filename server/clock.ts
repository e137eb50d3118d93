/** Time as a dependency: production reads the wall clock, tests move a fake one by hand. */
export type Clock = { now(): number };

export const systemClock: Clock = { now: () => Date.now() };

export function fakeClock(start: number): Clock & { set(ms: number): void; advance(ms: number): void } {
  let t = start;
  return {
    now: () => t,
    set(ms) {
      t = ms;
    },
    advance(ms) {
      t += ms;
    },
  };
}

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

export function floorTo(ms: number, step: number): number {
  return Math.floor(ms / step) * step;
}
