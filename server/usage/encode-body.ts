/**
 * A response body's text pieces as UTF-8 bytes, each piece encoded as soon as it is made. Joining
 * the pieces first kept every one of them alive until the end: on a worker thread, whose young
 * generation is capped (http/worker-thread.ts), a 1.5 MB CSV then spent more time in the garbage
 * collector copying and promoting pieces than reading and formatting them. Here each piece dies
 * young, and the body grows in one buffer outside the JavaScript heap.
 */
export function encodeBody(pieces: Iterable<string>): Uint8Array<ArrayBuffer> {
  const encoder = new TextEncoder();
  let bytes = new Uint8Array(64 * 1024);
  let length = 0;
  for (const piece of pieces) {
    // A UTF-16 code unit is at most 3 bytes of UTF-8.
    const most = piece.length * 3;
    if (length + most > bytes.length) {
      const grown = new Uint8Array(Math.max(bytes.length * 2, length + most));
      grown.set(bytes.subarray(0, length));
      bytes = grown;
    }
    length += encoder.encodeInto(piece, bytes.subarray(length)).written;
  }
  // Exactly the body: posting a view to another thread copies its whole buffer, spare room included.
  return bytes.slice(0, length);
}
