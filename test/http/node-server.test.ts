import type { Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createNodeServer } from '../../server/http/node-server.ts';

let server: Server;
afterEach(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

async function start(headersTimeoutMs: number, requestTimeoutMs: number) {
  // Reads the whole body, then answers 200: only the timeouts can end a stalled request early.
  server = createNodeServer(
    (req, res) => {
      req.resume();
      req.on('end', () => res.end('ok'));
    },
    { headersTimeoutMs, requestTimeoutMs },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return (server.address() as AddressInfo).port;
}

/** Writes `head` on a raw connection, then `drip` every `everyMs`; resolves with what came back and when. */
function slowClient(port: number, head: string, drip?: { chunk: string; everyMs: number }) {
  const started = Date.now();
  return new Promise<{ answer: string; ms: number }>((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(head));
    const timer = drip && setInterval(() => socket.writable && socket.write(drip.chunk), drip.everyMs);
    let answer = '';
    socket.on('data', (d) => {
      answer += d;
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ answer, ms: Date.now() - started });
    });
    // Bounds the test whatever the server does.
    setTimeout(() => socket.destroy(), 5_000);
  });
}

describe('createNodeServer', () => {
  it('answers 408 and closes a connection whose headers do not arrive in time', async () => {
    const port = await start(300, 2_000);
    const { answer, ms } = await slowClient(port, 'POST /gw/magichour/v1/face-swap HTTP/1.1\r\nHost: a\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(ms).toBeGreaterThanOrEqual(250);
    expect(ms).toBeLessThan(1_500);
  });

  it('answers 408 to a request whose body trickles in for longer than the request timeout', async () => {
    const port = await start(300, 800);
    const head = 'POST /api/v1/usage HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n';
    // One byte every 50 ms: never idle, just too slow.
    const { answer, ms } = await slowClient(port, head, { chunk: 'x', everyMs: 50 });
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(ms).toBeGreaterThanOrEqual(700);
    expect(ms).toBeLessThan(2_500);
  });

  it('serves requests that arrive in time', async () => {
    const port = await start(300, 800);
    const res = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: 'hello' });
    expect(await res.text()).toBe('ok');
  });
});
