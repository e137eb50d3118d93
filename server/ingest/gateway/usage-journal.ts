/**
 * The gateway's journal: every usage event is appended, as one JSON line, to a file beside the
 * database before the client sees the end of its answer, and the file is deleted once the writer
 * has stored all of its events. A `kill -9` loses nothing the kernel already has (a write() that
 * returned is in the page cache; only a power cut needs fsync, which would cost every request a
 * disk flush). A process that starts adopts the files of processes that are gone (writerMayBeAlive)
 * and stores their events again: event ids are unique per (source, id), so what was stored already counts once.
 *
 * Appends are grouped: the lines of every request answered in one turn of the event loop go to
 * disk in one write() at the end of that turn (sync()), and the gateway holds each answer's end
 * until then (usage-queue.ts journaled()). One system call per turn instead of one per request.
 *
 * Files are segments named `<pid>-<instance>-<n>.jsonl`: the current one takes appends until it
 * holds SEGMENT_LINES lines, or until all its events are stored (then it is deleted at once, so an
 * idle gateway keeps no file).
 */
import {
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../log.ts';
import type { Chunk } from './usage-chunk.ts';
import type { QueuedUsage } from './write-batch.ts';

/** Lines per segment before a new file starts (a few MB), so stored segments can be deleted. */
const SEGMENT_LINES = 10_000;
const NAME = /^(\d+)-([A-Za-z0-9_]+)-(\d+)\.jsonl$/;

export type JournalStats = {
  /** Events on disk whose storage is not confirmed yet. */
  pending: number;
  files: number;
  /** The last append or delete that failed (a full disk, permissions), or null. */
  error: string | null;
};

export type Adopted = { items: QueuedUsage[]; segment: number };

export type UsageJournal = {
  /** Buffers one event's line (its JSON, no newline) for the next sync(). */
  append(line: string): void;
  /**
   * Writes the buffered lines in one write() and hands them to `written` as one chunk: its segment,
   * or -1 when the disk refused them (the events are then kept in memory only). False then.
   */
  sync(): boolean;
  /** Lines buffered and not yet written. */
  buffered(): number;
  /** Confirms that this many events of each segment are in storage. */
  stored(counts: ReadonlyMap<number, number>): void;
  /** Events left by earlier processes, each file as one segment of this journal. */
  adopt(): Adopted[];
  stats(): JournalStats;
  /** Closes the current file; files with events not yet stored stay for the next start. */
  close(): void;
};

type Segment = { path: string; lines: number; pending: number; fd: number | null };

export function openUsageJournal(
  dir: string,
  instance: string,
  log: Logger,
  written: (chunk: Chunk) => void,
): UsageJournal {
  const segments = new Map<number, Segment>();
  let current: Segment | null = null;
  let currentId = -1;
  let next = 0;
  let error: string | null = null;

  const fail = (what: string, err: unknown) => {
    const message = `${what}: ${(err as Error).message}`;
    if (error === null)
      log.error('gateway journal failed; events are kept in memory only', { error: message });
    error = message;
  };

  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    fail('journal folder', err);
  }

  const closeFile = (s: Segment) => {
    if (s.fd === null) return;
    try {
      closeSync(s.fd);
    } catch {}
    s.fd = null;
  };

  const remove = (id: number, s: Segment) => {
    closeFile(s);
    segments.delete(id);
    if (current === s) current = null;
    try {
      unlinkSync(s.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') fail('journal delete', err);
    }
  };

  /**
   * Lines waiting for sync(), all of the current segment (a full one is synced before it closes), or
   * of none when no file could be opened (`current` null).
   */
  let lines: string[] = [];

  function sync(): boolean {
    if (lines.length === 0) return true;
    const text = Buffer.from(`${lines.join('\n')}\n`, 'utf8');
    const count = lines.length;
    lines = [];
    const s = current;
    try {
      // Lines are whole in the kernel or cut short at the end only (kill -9 mid-write): adopt()
      // skips a cut line, and its answer had not been released yet.
      if (!s || s.fd === null) throw new Error('no journal file open');
      // A regular file takes a whole write unless the disk fills up midway: then the rest is tried
      // again, and a full disk throws.
      for (let done = 0; done < text.length; ) {
        const n = writeSync(s.fd, text, done);
        if (n <= 0) throw new Error('the journal file took no bytes');
        done += n;
      }
      error = null;
      written({ count, segment: currentId, bytes: text, items: null });
      return true;
    } catch (err) {
      fail('journal append', err);
      // Not on disk: these events are kept in memory only, and do not hold their segment open.
      if (s) {
        s.pending -= count;
        s.lines -= count;
      }
      written({ count, segment: -1, bytes: text, items: null });
      return false;
    }
  }

  return {
    append(line) {
      // Lines buffered while no file could be opened go out (as memory only) before a file is tried again.
      if (!current && lines.length > 0) sync();
      if (!current) {
        const id = next++;
        const path = join(dir, `${process.pid}-${instance}-${id}.jsonl`);
        try {
          current = { path, lines: 0, pending: 0, fd: openSync(path, 'a', 0o600) };
        } catch (err) {
          fail('journal open', err);
          // Buffered all the same: sync() hands it on as memory only (no file, so the write fails).
          lines.push(line);
          return;
        }
        currentId = id;
        segments.set(id, current);
      }
      lines.push(line);
      current.lines++;
      current.pending++;
      // A full segment: its lines go out now, so its file can be closed and a new one started.
      if (current.lines >= SEGMENT_LINES) {
        sync();
        if (current) closeFile(current);
        current = null;
      }
    },
    sync,
    buffered: () => lines.length,
    stored(counts) {
      // Nothing is confirmed before its own line is on disk: a segment must not be deleted under it.
      if (lines.length > 0) sync();
      for (const [id, n] of counts) {
        const s = segments.get(id);
        if (!s) continue;
        s.pending -= n;
        if (s.pending <= 0) remove(id, s);
      }
    },
    adopt() {
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        return [];
      }
      const adopted: Adopted[] = [];
      for (const name of names.sort()) {
        const m = NAME.exec(name);
        if (!m || m[2] === instance) continue;
        const path = join(dir, name);
        let lastWriteMs: number;
        try {
          lastWriteMs = statSync(path).mtimeMs;
        } catch {
          continue;
        }
        if (writerMayBeAlive(Number(m[1]), lastWriteMs)) continue;
        const items: QueuedUsage[] = [];
        let bad = 0;
        for (const line of readFileSync(path, 'utf8').split('\n')) {
          if (line === '') continue;
          try {
            items.push(JSON.parse(line) as QueuedUsage);
          } catch {
            bad++;
          }
        }
        if (bad > 0) log.warn('gateway journal: unreadable lines skipped', { file: name, lines: bad });
        const id = next++;
        segments.set(id, { path, lines: items.length, pending: items.length, fd: null });
        if (items.length === 0) remove(id, segments.get(id)!);
        else adopted.push({ items, segment: id });
      }
      return adopted;
    },
    stats() {
      let pending = 0;
      for (const s of segments.values()) pending += s.pending;
      return { pending, files: segments.size, error };
    },
    close() {
      if (lines.length > 0) sync();
      for (const [id, s] of segments) {
        if (s.pending <= 0) remove(id, s);
        else closeFile(s);
      }
      current = null;
    },
  };
}

/**
 * Whether the process that last wrote a journal file may still be running: another live process
 * owns its files (several may share a database). Ours from before a restart may reuse our pid. A
 * pid is also reused by unrelated processes, after a reboot above all (pids are handed out in
 * order at boot): where the start of a process can be read (Linux), a live pid whose process
 * started after the file's last write cannot be its writer, and the file is adopted.
 */
function writerMayBeAlive(pid: number, lastWriteMs: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const started = processStartMs(pid);
  return started === null || started <= lastWriteMs + START_SLACK_MS;
}

/** The boot time is known to the second: a start this close to the last write may be its writer's. */
const START_SLACK_MS = 2_000;
/** Linux's clock ticks per second for /proc times (USER_HZ, 100 on every architecture Node runs on). */
const USER_HZ = 100;

/** When process `pid` started, in epoch ms, or null where /proc cannot say. */
export function processStartMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces: the 22nd field
    // of the line (start time in ticks since boot) is the 20th of these.
    const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    const bootS = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]);
    if (!Number.isFinite(ticks) || !Number.isFinite(bootS)) return null;
    return bootS * 1000 + (ticks * 1000) / USER_HZ;
  } catch {
    return null;
  }
}
