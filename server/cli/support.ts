/** What every command module shares: argument parsers, stderr lines, and running with an open database. */
import { InvalidArgumentError } from 'commander';
import type { Deps } from '../deps.ts';
import { TimestampSchema } from '../timestamps.ts';

export type WithDeps = <T>(fn: (deps: Deps) => Promise<T> | T) => Promise<T>;

/** Messages go to stderr so that stdout carries only results. */
export const err = (line: string) => process.stderr.write(`${line}\n`);

export function positiveInt(max: number) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > max)
      throw new InvalidArgumentError(`must be a whole number from 1 to ${max}.`);
    return n;
  };
}

export function timestamp(value: string): number {
  const parsed = TimestampSchema.safeParse(value);
  if (!parsed.success) throw new InvalidArgumentError(parsed.error.issues[0]?.message ?? 'invalid timestamp');
  return parsed.data;
}
