/**
 * A response body produced piece by piece as the client reads it: large CSV and JSON answers are
 * never held whole in memory. The pieces must not hold a SQLite statement open between pulls (the
 * connection is shared by every request): query first, then format lazily.
 */

const CHUNK_CHARS = 64 * 1024;

export function streamResponse(
  pieces: Iterable<string>,
  headers: Record<string, string>,
  status = 200,
): Response {
  const it = pieces[Symbol.iterator]();
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      let buffer = '';
      while (buffer.length < CHUNK_CHARS) {
        const next = it.next();
        if (next.done) {
          if (buffer) controller.enqueue(encoder.encode(buffer));
          controller.close();
          return;
        }
        buffer += next.value;
      }
      controller.enqueue(encoder.encode(buffer));
    },
    cancel() {
      it.return?.();
    },
  });
  return new Response(body, { status, headers });
}

/**
 * A JSON object whose `field` array is streamed element by element after the other fields, each
 * written by `render` (JSON.stringify unless the caller has a faster writer of the same text).
 */
export function* jsonWithArray<T>(
  head: object,
  field: string,
  items: Iterable<T>,
  render: (item: T) => string = JSON.stringify,
): Generator<string> {
  const opening = JSON.stringify(head);
  yield `${opening.length > 2 ? `${opening.slice(0, -1)},` : '{'}${JSON.stringify(field)}:[`;
  let first = true;
  for (const item of items) {
    yield first ? render(item) : `,${render(item)}`;
    first = false;
  }
  yield ']}';
}

export const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };
