import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { logNodeRequest } from '../../server/http/access-log.ts';
import { createLogger, type LogLevel } from '../../server/log.ts';
import { createTestApi } from '../helpers/api.ts';
import { createTestDeps, type TestDeps } from '../helpers/store.ts';

let deps: TestDeps;
let api: ReturnType<typeof createTestApi>;
let lines: string[];
// biome-ignore lint/suspicious/noExplicitAny: log lines are arbitrary JSON
const entries = (): any[] => lines.map((l) => JSON.parse(l)).filter((e) => e.msg === 'http request');

beforeEach(() => {
  lines = [];
  deps = createTestDeps();
  deps.log = createLogger('info', (l) => lines.push(l));
  api = createTestApi(deps);
});
afterEach(() => deps.cleanup());

const get = (path: string, headers: Record<string, string> = {}) => api.app.request(path, { headers });

describe('access log', () => {
  it('logs one line per request with a generated request id, echoed in the response', async () => {
    const token = await api.tokenFor('read');
    const res = await get('/api/v1/keys/key_nope', { authorization: `Bearer ${token}` });
    const id = res.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const [entry, ...more] = entries();
    expect(more).toEqual([]);
    expect(entry).toMatchObject({
      level: 'info',
      request_id: id,
      method: 'GET',
      route: '/api/v1/keys/:id',
      status: res.status,
    });
    expect(typeof entry.duration_ms).toBe('number');
    expect(lines.join('\n')).not.toContain(token);
  });

  it('keeps a valid incoming request id and replaces an invalid one', async () => {
    const kept = await get('/metrics', { 'x-request-id': 'abc.DEF_123-x' });
    expect(kept.headers.get('x-request-id')).toBe('abc.DEF_123-x');
    for (const bad of ['has space', 'a'.repeat(129), 'semi;colon', 'ünicode']) {
      const res = await api.app.request('/metrics', { headers: { 'x-request-id': bad } });
      const id = res.headers.get('x-request-id');
      expect(id).not.toBe(bad);
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
    }
    expect(entries().map((e) => e.request_id)[0]).toBe('abc.DEF_123-x');
    expect(entries()).toHaveLength(5);
  });

  it('never writes the query string, the authorization header or cookies', async () => {
    await get('/api/v1/usage?token=secret-in-query&x=1', {
      authorization: 'Bearer secret-in-header',
      cookie: 'kw_session=secret-in-cookie',
    });
    await get('/nowhere?token=secret-in-query');
    const text = lines.join('\n');
    expect(entries()).toHaveLength(2);
    expect(entries()[1].route).toBe('/nowhere');
    expect(entries()[1].status).toBe(404);
    for (const secret of ['secret-in-query', 'secret-in-header', 'secret-in-cookie', '?']) {
      expect(text).not.toContain(secret);
    }
  });

  it('does not log health probes and static assets', async () => {
    await get('/healthz');
    await get('/readyz');
    await get('/assets/app.js');
    expect(entries()).toEqual([]);
  });
});

describe('access log of a plain Node listener (the gateway)', () => {
  /** One request to a real server whose listener logs at `level`; the lines and the close listeners it added. */
  async function serveOne(level: LogLevel) {
    const written: string[] = [];
    const log = createLogger(level, (l) => written.push(l));
    let closeListeners = -1;
    const server = http.createServer((req, res) => {
      logNodeRequest(log, req, res, { route: '/gw/magichour/*', listener: 'gateway' });
      closeListeners = res.listenerCount('close');
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const res = await fetch(`http://127.0.0.1:${port}/gw/magichour/v1/x?token=secret`, {
      headers: { 'x-request-id': 'req-1' },
    });
    await res.text();
    // The line is written on the response's close, just after the client has the answer.
    await new Promise((r) => setTimeout(r, 50));
    await new Promise<void>((r) => server.close(() => r()));
    server.closeAllConnections();
    return { written, closeListeners };
  }

  it('writes one line at info, without the query', async () => {
    const { written } = await serveOne('info');
    expect(written).toHaveLength(1);
    expect(JSON.parse(written[0]!)).toMatchObject({
      msg: 'http request',
      request_id: 'req-1',
      route: '/gw/magichour/*',
      listener: 'gateway',
      status: 200,
    });
    expect(written[0]).not.toContain('secret');
  });

  it('adds no per-request work when info lines are off', async () => {
    const on = await serveOne('info');
    const off = await serveOne('warn');
    expect(off.written).toEqual([]);
    // At info it listens for the close; below info it does not touch the response at all.
    expect(off.closeListeners).toBe(on.closeListeners - 1);
  });
});
