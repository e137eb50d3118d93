/**
 * Response bodies written straight into UTF-8 bytes. Joining text pieces first kept every one of
 * them alive until the end, and writing a big answer as a string per bucket (a page of a hundred
 * keys over a year is 36,500 points) made the reads worker's capped young generation (http/
 * worker-thread.ts) scavenge and promote megabytes of short-lived strings on every request: more
 * time in the garbage collector than in reading and formatting. Here the body grows in one buffer
 * outside the JavaScript heap, and the hot writers add fixed pieces as cached bytes and numbers as
 * digits, without making a string for either.
 */
import { keepBuffer, lend, takeBuffer } from '../http/body-pool.ts';

export type BodyWriter = {
  /** Any text, as UTF-8. */
  text(s: string): void;
  /** Bytes made once (asciiBytes) and written many times: a bucket's time, a separator. */
  bytes(b: Uint8Array): void;
  /** A finite number as String(n) writes it (the callers decide what a non-finite one is). */
  number(n: number): void;
  /**
   * For writers of many small pieces (a point, a line): room for `n` more bytes at once, then the
   * buffer (a new one after growth) to write them into from `at()`, and `moveTo(end)` after them.
   * One bounds check per piece instead of one per separator and number.
   */
  reserve(n: number): Uint8Array;
  at(): number;
  moveTo(end: number): void;
  /**
   * The body: a small one copied out (its buffer kept for the next body), a large one as a view of
   * the writer's own buffer, lent (http/body-pool.ts) to be moved whole to the serving thread and
   * given back once sent. The writer is not used after.
   */
  done(): Uint8Array<ArrayBuffer>;
};

/** A text of ASCII characters as its bytes (one per character), to write again and again. */
export const asciiBytes = (s: string): Uint8Array => new TextEncoder().encode(s);

const ZERO = 48;
const MINUS = 45;
/** Up to this many characters or bytes, copied one by one rather than through a native call. */
const SHORT = 64;

/**
 * Bodies up to this size are copied out and their buffer kept for the next one; larger ones are
 * handed over with their buffer (http/body-pool.ts), which comes back once the body is sent. The
 * copy's fresh pages cost a page fault each, a few for a small body; a small body never holds a
 * big buffer while a slow client reads it.
 */
const COPY_BYTES = 256 * 1024;

export function createBodyWriter(): BodyWriter {
  const encoder = new TextEncoder();
  let buffer = takeBuffer() ?? new Uint8Array(64 * 1024);
  let length = 0;
  const room = (n: number) => {
    if (length + n <= buffer.length) return;
    const grown = new Uint8Array(Math.max(buffer.length * 2, length + n));
    grown.set(buffer.subarray(0, length));
    buffer = grown;
  };
  return {
    text(s) {
      // A UTF-16 code unit is at most 3 bytes of UTF-8.
      room(s.length * 3);
      // Short texts (a number, a name) byte by byte while they are ASCII: encodeInto's call and
      // the view it writes into cost more than the copy.
      if (s.length <= SHORT) {
        let i = 0;
        for (; i < s.length; i++) {
          const c = s.charCodeAt(i);
          if (c > 127) break;
          buffer[length + i] = c;
        }
        if (i === s.length) {
          length += i;
          return;
        }
      }
      length += encoder.encodeInto(s, buffer.subarray(length)).written;
    },
    bytes(b) {
      room(b.length);
      if (b.length <= SHORT) for (let i = 0; i < b.length; i++) buffer[length + i] = b[i]!;
      else buffer.set(b, length);
      length += b.length;
    },
    number(n) {
      // Integers (most counts, and whole credits) digit by digit; String() for the rest, which
      // is also what it writes for integers past 2^53 (1e21 and up in exponent form).
      if (!Number.isSafeInteger(n)) return this.text(String(n));
      room(17);
      let v = n;
      if (v < 0) {
        buffer[length++] = MINUS;
        v = -v;
      }
      let digits = 1;
      for (let rest = v; rest >= 10; rest = Math.floor(rest / 10)) digits++;
      length += digits;
      for (let i = length - 1; i >= length - digits; i--) {
        buffer[i] = ZERO + (v % 10);
        v = Math.floor(v / 10);
      }
    },
    reserve(n) {
      room(n);
      return buffer;
    },
    at: () => length,
    moveTo(end) {
      length = end;
    },
    done() {
      if (length <= COPY_BYTES) {
        const body = buffer.slice(0, length);
        keepBuffer(buffer);
        return body;
      }
      lend(buffer.buffer);
      return buffer.subarray(0, length);
    },
  };
}

/** The longest text String() writes for a number ("-1.2345678901234567e-308" is 24). */
export const MAX_NUMBER_BYTES = 24;

/**
 * A finite number written at `at` as String(n) writes it, with room for MAX_NUMBER_BYTES reserved
 * there; returns the end. Integers below 2^31 digit by digit in int arithmetic (counts, whole
 * credits: nearly every value), anything else through String(), which is always ASCII for a number.
 */
export function writeNumberAt(buffer: Uint8Array, at: number, n: number): number {
  let v = n;
  let p = at;
  if (v < 0 && v > -2147483648 && (v | 0) === v) {
    buffer[p++] = MINUS;
    v = -v;
  }
  // -0 is `0` here as in String(); 0 <= v < 2^31 and whole.
  if ((v | 0) === v && v >= 0) {
    if (v < 10) {
      buffer[p] = ZERO + v;
      return p + 1;
    }
    let digits = 2;
    for (let rest = (v / 100) | 0; rest > 0; rest = (rest / 10) | 0) digits++;
    const end = p + digits;
    for (let i = end - 1; i >= p; i--) {
      const q = (v / 10) | 0;
      buffer[i] = ZERO + (v - q * 10);
      v = q;
    }
    return end;
  }
  const s = String(n);
  for (let i = 0; i < s.length; i++) buffer[p + i] = s.charCodeAt(i);
  return p + s.length;
}

/**
 * Pieces of bytes up to this length copied one by one by copyAt. Lower than SHORT: between two
 * typed arrays, TypedArray.set was the cheaper copy from about ten bytes (a bucket's opening is
 * 44, `,"requests":` 12): the page of a hundred keys' year written in 6.7-6.9 ms of CPU instead of
 * 8.8-10.1 (100 runs from the scale bench's data, in process, same run).
 */
const SHORT_COPY = 8;

/** `bytes` copied into `buffer` at `at` (room reserved); returns the end. Short pieces by hand. */
export function copyAt(buffer: Uint8Array, at: number, bytes: Uint8Array): number {
  const n = bytes.length;
  if (n <= SHORT_COPY) for (let i = 0; i < n; i++) buffer[at + i] = bytes[i]!;
  else buffer.set(bytes, at);
  return at + n;
}

/** Text pieces as one body, each piece encoded as soon as it is made (it dies young). */
export function encodeBody(pieces: Iterable<string>): Uint8Array<ArrayBuffer> {
  const out = createBodyWriter();
  for (const piece of pieces) out.text(piece);
  return out.done();
}
