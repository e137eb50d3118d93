/**
 * How queued usage is held between the journal and storage: in chunks, not one object per event.
 * A chunk is the lines one journal write took, kept as those bytes (off the JS heap: the serving
 * thread's young-generation GC neither copies nor promotes them, where a string and an object per
 * event, held for a batch's delay, were promoted by the thousand), or events as objects (adopted
 * from an earlier process's journal, or queued without a journal). The writer thread gets a batch
 * as one buffer of lines, transferred, not copied.
 */
import { usageLine } from './usage-line.ts';
import type { QueuedUsage } from './write-batch.ts';

export type Chunk = {
  count: number;
  /** The journal segment holding these events; -1 when they are in memory only. */
  segment: number;
  /** Lines, each ending with a newline; or null when `items` holds the events. */
  bytes: Uint8Array | null;
  items: QueuedUsage[] | null;
};

const NEWLINE = 0x0a;
const decoder = new TextDecoder();

/**
 * Events of a buffer of lines (a JSON line holds no raw newline: JSON escapes it). Parsed line by
 * line: joining a batch into one array text first copied it twice more, and cost twice as much per
 * event at 1,000 lines (12 vs 6 µs per gateway event on the writer thread).
 */
export function parseLines(bytes: Uint8Array): QueuedUsage[] {
  const text = decoder.decode(bytes);
  const items: QueuedUsage[] = [];
  for (let at = 0; at < text.length; ) {
    let end = text.indexOf('\n', at);
    if (end < 0) end = text.length;
    if (end > at) items.push(JSON.parse(text.slice(at, end)));
    at = end + 1;
  }
  return items;
}

export const itemsOf = (chunk: Chunk): QueuedUsage[] => chunk.items ?? parseLines(chunk.bytes!);

/** The first `n` events of a chunk and the rest (n < count). */
export function splitChunk(chunk: Chunk, n: number): [Chunk, Chunk] {
  const { segment } = chunk;
  if (chunk.items) {
    return [
      { count: n, segment, bytes: null, items: chunk.items.slice(0, n) },
      { count: chunk.count - n, segment, bytes: null, items: chunk.items.slice(n) },
    ];
  }
  const bytes = chunk.bytes!;
  let at = 0;
  for (let lines = 0; lines < n; lines++) at = bytes.indexOf(NEWLINE, at) + 1;
  return [
    { count: n, segment, bytes: bytes.subarray(0, at), items: null },
    { count: chunk.count - n, segment, bytes: bytes.subarray(at), items: null },
  ];
}

/** One buffer of every line of these chunks, owning its memory (so it can be transferred to a thread). */
export function batchBytes(chunks: readonly Chunk[]): Uint8Array {
  const parts = chunks.map((c) => c.bytes ?? Buffer.from(`${c.items!.map(usageLine).join('\n')}\n`));
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Chunks waiting for storage, oldest first, counted in events. */
export type ChunkQueue = {
  /** Events waiting. */
  readonly count: number;
  add(chunk: Chunk): void;
  /** Takes whole chunks, oldest first, up to `limit` events (a larger first chunk is split). */
  take(limit: number): { batch: Chunk[]; count: number };
  /** A batch that could not be stored goes back to the front, to be tried first. */
  putBack(batch: Chunk[], count: number): void;
};

export function createChunkQueue(): ChunkQueue {
  let chunks: Chunk[] = [];
  let count = 0;
  return {
    get count() {
      return count;
    },
    add(chunk) {
      chunks.push(chunk);
      count += chunk.count;
    },
    take(limit) {
      const batch: Chunk[] = [];
      let taken = 0;
      while (chunks.length > 0 && taken < limit) {
        let c = chunks[0]!;
        if (taken + c.count > limit) {
          if (taken > 0) break;
          const [head, rest] = splitChunk(c, limit);
          chunks[0] = rest;
          c = head;
        } else chunks.shift();
        batch.push(c);
        taken += c.count;
      }
      count -= taken;
      return { batch, count: taken };
    },
    putBack(batch, n) {
      chunks = batch.concat(chunks);
      count += n;
    },
  };
}
