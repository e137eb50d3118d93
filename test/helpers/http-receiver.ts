/**
 * A real HTTP endpoint on 127.0.0.1 for the webhook, Slack and PagerDuty channels: records every
 * POST; can drop connections (a receiver that is down) or answer a chosen status on demand.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Received = { path: string; headers: Record<string, string | string[] | undefined>; body: string };

export type TestReceiver = {
  /** Base URL, `http://127.0.0.1:<port>`. */
  url: string;
  received: Received[];
  /** 'up' answers `okStatus`; 'drop' closes every connection unanswered; a number is answered as is. */
  mode: 'up' | 'drop' | number;
  /** Text of the answer when `mode` is a status. */
  answer: string;
  /** Every request, answered or not. */
  attempts: number;
  close(): Promise<void>;
};

export async function startReceiver(okStatus = 200): Promise<TestReceiver> {
  const state: TestReceiver = {
    url: '',
    received: [],
    mode: 'up',
    answer: '',
    attempts: 0,
    close: async () => {},
  };
  const server = createServer((req, res) => {
    state.attempts++;
    // A kept-alive connection from before the outage is dropped too.
    if (state.mode === 'drop') return req.socket.destroy();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (typeof state.mode === 'number') {
        res.writeHead(state.mode, { 'content-type': 'text/plain' }).end(state.answer);
        return;
      }
      const body = Buffer.concat(chunks).toString('utf8');
      state.received.push({ path: req.url ?? '', headers: req.headers, body });
      res.writeHead(okStatus, { 'content-type': 'application/json' }).end('{"status":"success"}');
    });
  });
  server.on('connection', (socket) => {
    if (state.mode === 'drop') socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

/**
 * How a receiver checks `keywatch-signature: t=<unix s>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`:
 * the raw body, a timestamp window, and a constant-time compare.
 */
export function verifySignature(
  secret: string,
  header: string | string[] | undefined,
  rawBody: string,
  nowMs: number,
  toleranceS = 300,
): boolean {
  if (typeof header !== 'string') return false;
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=', 2) as [string, string]));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || Math.abs(nowMs / 1000 - t) > toleranceS || !parts.v1) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${rawBody}`).digest();
  const given = Buffer.from(parts.v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
