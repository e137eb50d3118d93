/** The gateway's copy of an answer, decompressed for reading credits; the client gets the original bytes. */
import type { IncomingHttpHeaders } from 'node:http';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';

/** Null when the encoding is unknown, the bytes are corrupt, or they inflate past 8x `limit`. */
export function decodeCopy(body: Buffer, headers: IncomingHttpHeaders, limit: number): Buffer | null {
  const encoding = String(headers['content-encoding'] ?? '').toLowerCase();
  const opts = { maxOutputLength: limit * 8 };
  try {
    if (encoding === '' || encoding === 'identity') return body;
    if (encoding === 'gzip' || encoding === 'x-gzip') return gunzipSync(body, opts);
    if (encoding === 'deflate') return inflateSync(body, opts);
    if (encoding === 'br') return brotliDecompressSync(body, opts);
  } catch {
    return null;
  }
  return null;
}
