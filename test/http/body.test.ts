/**
 * JSON bodies over real HTTP (@hono/node-server): the size limit from Content-Length or counted for
 * a chunked body, 415 before any byte is read, and bytes that decode and parse elsewhere.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { limitBody, parseJsonBytes, readJsonBytes } from '../../server/http/body.ts';
import { createErrorHandler } from '../../server/http/errors.ts';
import { createNodeServer } from '../../server/http/node-server.ts';
import { silentLogger } from '../../server/log.ts';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

async function start(maxSize: number) {
  const app = new Hono()
    .post('/echo', limitBody(maxSize), async (c) => c.json({ got: parseJsonBytes(await readJsonBytes(c)) }))
    .onError(createErrorHandler(silentLogger));
  server = createNodeServer(getRequestListener(app.fetch), {
    headersTimeoutMs: 5_000,
    requestTimeoutMs: 10_000,
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server!.address() as AddressInfo).port}/echo`;
}

/** A body sent chunked (no Content-Length): a stream of its pieces. */
const chunked = (text: string) =>
  new ReadableStream({
    start(controller) {
      for (let i = 0; i < text.length; i += 16)
        controller.enqueue(new TextEncoder().encode(text.slice(i, i + 16)));
      controller.close();
    },
  });

const post = (url: string, body: string | ReadableStream, type = 'application/json') =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': type },
    body,
    ...(typeof body !== 'string' && { duplex: 'half' }),
  } as RequestInit);

describe('JSON bodies', () => {
  it('reads a body within the limit, with or without a Content-Length', async () => {
    const url = await start(100);
    const text = JSON.stringify({ name: 'café ☕', n: [1, 2, 3] });
    expect(await (await post(url, text)).json()).toEqual({ got: { name: 'café ☕', n: [1, 2, 3] } });
    expect(await (await post(url, chunked(text))).json()).toEqual({ got: { name: 'café ☕', n: [1, 2, 3] } });
  });

  it('answers 413 past the limit, by Content-Length or by counting a chunked body', async () => {
    const url = await start(100);
    const text = JSON.stringify({ pad: 'x'.repeat(200) });
    for (const body of [text, chunked(text)]) {
      const res = await post(url, body);
      expect(res.status).toBe(413);
      expect((await res.json()).error.code).toBe('payload_too_large');
    }
  });

  it('answers 415 for a body that is not JSON and 400 for broken JSON', async () => {
    const url = await start(100);
    const notJson = await post(url, 'a,b\n1,2', 'text/csv');
    expect(notJson.status).toBe(415);
    expect((await notJson.json()).error.code).toBe('unsupported_media_type');
    const broken = await post(url, '{"events": [');
    expect(broken.status).toBe(400);
    expect((await broken.json()).error.code).toBe('invalid_json');
  });
});
