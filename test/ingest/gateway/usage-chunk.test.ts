/** Chunks of queued usage: lines read back as events, split at line boundaries, joined for the writer. */
import { describe, expect, it } from 'vitest';
import {
  batchBytes,
  type Chunk,
  itemsOf,
  parseLines,
  splitChunk,
} from '../../../server/ingest/gateway/usage-chunk.ts';
import { usageLine } from '../../../server/ingest/gateway/usage-line.ts';
import type { QueuedUsage } from '../../../server/ingest/gateway/write-batch.ts';

const usage = (n: number, from = 0): QueuedUsage[] =>
  Array.from({ length: n }, (_, i) => ({
    event: {
      source: 'gateway',
      eventId: `c.${from + i}`,
      key: { by: 'fingerprint', fingerprint: 'sha256:ab', last4: 'ab12' },
      ts: 1_000 + i,
      credits: i,
      requests: 1,
      status: 200,
      operation: 'face-swap',
      // A newline inside a value must not be taken for the end of a line.
      userAgent: `agent\n${i}`,
    },
  }));

const linesOf = (items: QueuedUsage[]): Chunk => ({
  count: items.length,
  segment: 3,
  bytes: Buffer.from(`${items.map(usageLine).join('\n')}\n`),
  items: null,
});

describe('usage chunks', () => {
  it('reads lines back as the events, and an empty buffer as none', () => {
    const items = usage(3);
    expect(parseLines(linesOf(items).bytes!)).toEqual(items);
    expect(parseLines(new Uint8Array(0))).toEqual([]);
  });

  it('reads a last line without its newline, and a split at any line boundary, line by line', () => {
    const items = usage(4);
    const text = items.map(usageLine).join('\n');
    expect(parseLines(Buffer.from(text))).toEqual(items);
    const bytes = Buffer.from(`${text}\n`);
    const cut = bytes.indexOf(0x0a, bytes.indexOf(0x0a) + 1) + 1;
    expect(parseLines(bytes.subarray(0, cut))).toEqual(items.slice(0, 2));
    expect(parseLines(bytes.subarray(cut))).toEqual(items.slice(2));
  });

  it('splits a chunk of lines or of objects after its n-th event, keeping the segment', () => {
    const items = usage(5);
    for (const chunk of [linesOf(items), { count: 5, segment: 3, bytes: null, items }]) {
      const [head, rest] = splitChunk(chunk, 2);
      expect([head.count, rest.count, head.segment, rest.segment]).toEqual([2, 3, 3, 3]);
      expect(itemsOf(head)).toEqual(items.slice(0, 2));
      expect(itemsOf(rest)).toEqual(items.slice(2));
    }
  });

  it('joins chunks of both kinds into one buffer that owns its memory, in order', () => {
    const a = usage(2);
    const b = usage(3, 2);
    const bytes = batchBytes([linesOf(a), { count: 3, segment: -1, bytes: null, items: b }]);
    expect(bytes.byteOffset).toBe(0);
    expect(bytes.buffer.byteLength).toBe(bytes.byteLength);
    expect(parseLines(bytes)).toEqual([...a, ...b]);
  });
});
