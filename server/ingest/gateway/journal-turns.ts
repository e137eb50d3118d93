/**
 * Answers held for the journal: the gateway ends an answer only once its event's line is on disk,
 * and the lines of one event-loop turn go out in one write. After a quiet turn (one line or none)
 * the turn's first line is written at once (a quiet moment's one answer never waits); after a busy
 * one it waits with the rest, since more are likely to follow: under saturation that writing at
 * once was half of the journal's writes (a write() per turn for one line, then another for the
 * rest). The answers that do wait get one shared write at the end of the turn, or when the next
 * request starts after one has waited `releaseAfterMs` (release()): an answer waits for a few
 * answers ending beside it, not for every new request a busy turn brings as well.
 */
import { performance } from 'node:perf_hooks';
import type { UsageJournal } from './usage-journal.ts';

export type JournalTurns = {
  /** A line was appended to the journal: the turn's first is written at once. */
  appended(): void;
  /** Calls `then` once every line appended so far is on disk (at once when none waits). */
  journaled(then: () => void): void;
  /** Writes now and releases the waiting answers, if the first has waited `releaseAfterMs`. */
  release(): void;
  /** Writes now and releases every waiting answer. */
  syncNow(): void;
};

export function createJournalTurns(journal: UsageJournal | null, releaseAfterMs: number): JournalTurns {
  let waiters: (() => void)[] = [];
  /** When the first of `waiters` began to wait (performance.now()). */
  let waitingSince = 0;
  /** This turn has a line already: its later lines share one write at its end. */
  let turnStarted = false;
  /** Lines appended in this turn, and whether the last turn had more than one (busy). */
  let turnLines = 0;
  let busy = false;

  /** One write() for the turn's lines, then the answers held for them go out. */
  const syncNow = () => {
    if (waiters.length === 0 && !journal?.buffered()) return;
    journal?.sync();
    const released = waiters;
    waiters = [];
    for (const then of released) then();
  };

  const endTurn = () => {
    turnStarted = false;
    busy = turnLines > 1;
    turnLines = 0;
    syncNow();
  };

  return {
    appended() {
      if (!journal) return;
      turnLines++;
      if (turnStarted) return;
      turnStarted = true;
      if (!busy) journal.sync();
      setImmediate(endTurn);
    },
    journaled(then) {
      if (!journal || journal.buffered() === 0) then();
      else if (waiters.push(then) === 1) waitingSince = performance.now();
    },
    release() {
      if (waiters.length > 0 && performance.now() - waitingSince >= releaseAfterMs) syncNow();
    },
    syncNow,
  };
}
