/**
 * forwardRequest's promise to the journal: the client never holds a complete answer (a 200 or the
 * gateway's own 502) before `recorded` has called back.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createUpstream,
  type ForwardResult,
  forwardRequest,
} from '../../../server/ingest/gateway/forward.ts';
import { type FakeMagicHour, startFakeMagicHour } from '../../helpers/fake-magichour.ts';
import { until } from '../../helpers/slow-client.ts';

const KEY = 'mhk_live_forwardtest_cd34';
let fake: FakeMagicHour | undefined;

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

/** A proxy of forwardRequest alone, whose `recorded` callback the test releases by hand. */
async function holdingProxy(upstreamUrl: string) {
  const upstream = createUpstream(upstreamUrl, 5_000, 8);
  const state: { result?: ForwardResult; release?: () => void } = {};
  const server = http.createServer((req, res) => {
    void forwardRequest(req, res, upstream, '/v1/face-swap', {
      copyLimit: 0,
      origin: 'gateway',
      bodyIdleMs: 5_000,
      record: (r) => {
        state.result = r;
      },
      recorded: (then) => {
        state.release = then;
      },
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const close = () => {
    upstream.agent.destroy();
    server.closeAllConnections();
    return new Promise((r) => server.close(r));
  };
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, state, close };
}

/** A POST whose progress the test can watch: status once the head arrives, `ended` with the body. */
function watch(url: string) {
  const seen: { status?: number; ended: boolean; body: string } = { ended: false, body: '' };
  const req = http.request(url, { method: 'POST', headers: { authorization: `Bearer ${KEY}` } }, (res) => {
    seen.status = res.statusCode;
    res.setEncoding('utf8');
    res.on('data', (d: string) => {
      seen.body += d;
    });
    res.on('end', () => {
      seen.ended = true;
    });
  });
  req.on('error', () => {});
  req.end('{}');
  return seen;
}

describe('the record before the end of the answer', () => {
  it('holds the end of an answer until the record is safe', async () => {
    fake = await startFakeMagicHour();
    fake.keys.add(KEY);
    const proxy = await holdingProxy(fake.url);
    try {
      const seen = watch(proxy.url);
      await until(() => proxy.state.release !== undefined, 'the upstream answer to be recorded');
      expect(proxy.state.result?.status).toBe(200);
      // The head may be out, but not the whole answer: the record is not safe yet.
      await new Promise((r) => setTimeout(r, 200));
      expect(seen.ended).toBe(false);
      proxy.state.release!();
      await until(() => seen.ended, 'the answer to end once released');
      expect(seen.status).toBe(200);
      expect(JSON.parse(seen.body)).toHaveProperty('id');
    } finally {
      await proxy.close();
    }
  });

  it('holds a 502 for an unreachable upstream the same way', async () => {
    // A port nothing listens on: closed at once by the kernel.
    const idle = http.createServer();
    await new Promise<void>((r) => idle.listen(0, '127.0.0.1', r));
    const port = (idle.address() as AddressInfo).port;
    await new Promise((r) => idle.close(r));
    const proxy = await holdingProxy(`http://127.0.0.1:${port}`);
    try {
      const seen = watch(proxy.url);
      await until(() => proxy.state.release !== undefined, 'the failure to be recorded');
      expect(proxy.state.result?.error?.code).toBe('upstream_unavailable');
      await new Promise((r) => setTimeout(r, 200));
      expect(seen.status).toBeUndefined();
      proxy.state.release!();
      await until(() => seen.ended, 'the 502 once released');
      expect(seen.status).toBe(502);
    } finally {
      await proxy.close();
    }
  });
});
