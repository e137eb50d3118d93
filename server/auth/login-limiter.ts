/**
 * Brute-force brake for sign-in: failures counted per client IP and per email in a fixed window.
 * In memory (one process); a restart forgets, which only ever lets a person in sooner.
 */
import type { Clock } from '../clock.ts';

export const LOGIN_LIMITS = { windowMs: 15 * 60_000, perEmail: 8, perIp: 30, maxTracked: 10_000 };

type Entry = { failures: number; resetAt: number };

export type LoginLimiter = {
  /** Milliseconds until the next attempt is allowed, or 0 when it is allowed now. */
  retryAfter(ip: string, email: string): number;
  recordFailure(ip: string, email: string): void;
  recordSuccess(ip: string, email: string): void;
};

export function createLoginLimiter(clock: Clock, limits = LOGIN_LIMITS): LoginLimiter {
  const entries = new Map<string, Entry>();
  const keysFor = (ip: string, email: string) =>
    [
      [`ip:${ip}`, limits.perIp],
      [`email:${email.trim().toLowerCase()}`, limits.perEmail],
    ] as const;

  const live = (key: string, now: number) => {
    const entry = entries.get(key);
    if (entry && entry.resetAt <= now) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  };

  const prune = (now: number) => {
    if (entries.size < limits.maxTracked) return;
    for (const [key, entry] of entries) if (entry.resetAt <= now) entries.delete(key);
    // Still full (an attack from many addresses): forget the oldest windows first.
    for (const key of entries.keys()) {
      if (entries.size < limits.maxTracked) break;
      entries.delete(key);
    }
  };

  return {
    retryAfter(ip, email) {
      const now = clock.now();
      let wait = 0;
      for (const [key, max] of keysFor(ip, email)) {
        const entry = live(key, now);
        if (entry && entry.failures >= max) wait = Math.max(wait, entry.resetAt - now);
      }
      return wait;
    },
    recordFailure(ip, email) {
      const now = clock.now();
      prune(now);
      for (const [key] of keysFor(ip, email)) {
        const entry = live(key, now) ?? { failures: 0, resetAt: now + limits.windowMs };
        entry.failures += 1;
        entries.set(key, entry);
      }
    },
    recordSuccess(_ip, email) {
      entries.delete(`email:${email.trim().toLowerCase()}`);
    },
  };
}
