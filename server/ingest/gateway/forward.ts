/**
 * Forwards one Node request to the upstream and streams the answer back (status, headers, body).
 * Bodies flow through without buffering; when asked, a bounded copy of the response body is kept
 * for reading credits. Upstream failures before the answer starts become a 502 JSON error.
 *
 * Slow and abandoned clients hold nothing: a request body that pauses longer than `bodyIdleMs`
 * gets a 408, and a client that leaves before its whole request reached the upstream has the
 * upstream request cancelled. A client that leaves after that does not cancel it: the provider
 * charges for the request either way, so its answer is read to the end for the credits.
 *
 * `record` sees the result before the client sees the end of its answer: the answer's last chunk
 * is held back until the upstream's answer has ended, `record` has run and `recorded` has called
 * back, so no client ever holds a complete answer whose usage is not yet recorded (the gateway
 * journals it there, one write for all the answers that end in the same event-loop turn).
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import { CLOSE, sendError } from './answer.ts';
import { unwatchBody, watchBody } from './body-watch.ts';
import { decodeCopy } from './decode-copy.ts';
import { type Origin, requestHeaders, responseHeaders } from './headers.ts';

export type Upstream = {
  url: URL;
  agent: http.Agent;
  timeoutMs: number;
  /** The base URL's path without its trailing slash, prefixed to every forwarded path. */
  basePath: string;
  request: typeof http.request;
};

export type ForwardOptions = {
  /** Keep a decoded copy of the answer up to this many bytes (0: none). */
  copyLimit: number;
  /** Where the answer is served; on the dashboard's origin it is made inert (headers.ts). */
  origin: Origin;
  /** The longest pause allowed between two pieces of the request body, in ms. */
  bodyIdleMs: number;
  /** Called once, synchronously, with the result, before the client's answer ends. */
  record?: (result: ForwardResult) => void;
  /** Calls `then` once what `record` recorded is safe; the client's answer ends only then. */
  recorded?: (then: () => void) => void;
};

export type ForwardError = {
  code: 'upstream_timeout' | 'upstream_unavailable' | 'upstream_dropped' | 'client_gone' | 'body_timeout';
  message: string;
};

export type ForwardResult = {
  status: number;
  /** The decoded response body when a copy was asked for, complete and within the limit. */
  body: Buffer | null;
  /** Set when the exchange failed; the client got a 502 or 408 (or a cut-off body if it had started). */
  error: ForwardError | null;
};

/** The client failed, not the upstream: the upstream never got a whole request, so charged nothing. */
export const isClientFailure = (r: ForwardResult) =>
  r.error?.code === 'client_gone' || r.error?.code === 'body_timeout';

export function createUpstream(baseUrl: string, timeoutMs: number, sockets: number): Upstream {
  const url = new URL(baseUrl);
  const options = { keepAlive: true, maxSockets: sockets, maxFreeSockets: Math.min(64, sockets) };
  const secure = url.protocol === 'https:';
  const agent = secure ? new https.Agent(options) : new http.Agent(options);
  const basePath = url.pathname.replace(/\/$/, '');
  return { url, agent, timeoutMs, basePath, request: secure ? https.request : http.request };
}

export function forwardRequest(
  incoming: IncomingMessage,
  outgoing: ServerResponse,
  upstream: Upstream,
  pathAndQuery: string,
  options: ForwardOptions,
): Promise<ForwardResult> {
  return new Promise((resolve) => forward(incoming, outgoing, upstream, pathAndQuery, options, resolve));
}

/**
 * forwardRequest without its promise: `settled` is called once with the result (when `record`
 * is). The gateway's hot path, where a promise per request is measurable work.
 */
export function forward(
  incoming: IncomingMessage,
  outgoing: ServerResponse,
  upstream: Upstream,
  pathAndQuery: string,
  options: ForwardOptions,
  settled: (result: ForwardResult) => void,
): void {
  const { url, request } = upstream;
  let over = false;
  /** The whole request has been handed to the upstream: from here on it may charge for it. */
  let delivered = false;
  let response: IncomingMessage | undefined;
  /** The upstream's answer is being passed on to the client (not after the client left). */
  let relaying = false;
  const afterRecord = options.recorded ?? runNow;
  const body = watchBody(incoming, options.bodyIdleMs, () => {
    // Once the upstream answers, the answer is what matters; Node's request timeout bounds the rest.
    if (over || response) return;
    const message = `The request body paused for more than ${options.bodyIdleMs} ms.`;
    req.destroy();
    done({ status: 408, body: null, error: { code: 'body_timeout', message } });
    sendError(outgoing, 408, 'body_timeout', message, CLOSE);
  });
  const done = (r: ForwardResult) => {
    if (over) return;
    over = true;
    unwatchBody(body, options.bodyIdleMs);
    options.record?.(r);
    // Over before the whole request went out (the upstream answered early, or gave up): the rest
    // of the body will never be sent, so the upstream connection is closed, not left waiting for it.
    if (!delivered) req.destroy();
    settled(r);
  };

  const req = request({
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port,
    method: incoming.method,
    path: upstream.basePath + pathAndQuery,
    headers: requestHeaders(incoming.headers, url.host),
    agent: upstream.agent,
  });
  req.setTimeout(upstream.timeoutMs, () => {
    const error = new Error(`The upstream did not answer within ${upstream.timeoutMs} ms.`);
    (error as { code?: string }).code = 'KEYWATCH_TIMEOUT';
    req.destroy(error);
  });
  req.on('finish', () => {
    delivered = true;
  });

  req.on('response', (res) => {
    response = res;
    const status = res.statusCode ?? 502;
    let chunks: Buffer[] | null = options.copyLimit > 0 ? [] : null;
    let size = 0;
    // The chunk that completes a Content-Length answer waits for the record (see header); a chunked
    // answer completes only with its terminator, which end() sends after the record.
    const length = Number(res.headers['content-length'] ?? Number.NaN);
    let relayed = 0;
    let held: Buffer | null = null;
    res.on('data', (chunk: Buffer) => {
      if (chunks) {
        size += chunk.length;
        if (size > options.copyLimit) chunks = null;
        else chunks.push(chunk);
      }
      if (!relaying) return;
      relayed += chunk.length;
      if (relayed >= length) held = held ? Buffer.concat([held, chunk]) : chunk;
      else if (!outgoing.write(chunk)) {
        res.pause();
        outgoing.once('drain', () => res.resume());
      }
    });
    res.on('end', () => {
      done({
        status,
        body: chunks
          ? decodeCopy(
              chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks),
              res.headers,
              options.copyLimit,
            )
          : null,
        error: null,
      });
      if (!relaying) return;
      relaying = false;
      const last = held;
      afterRecord(() => {
        if (last) outgoing.end(last);
        else outgoing.end();
      });
    });
    // An upstream that drops the connection mid-answer: cut the client off too, so it sees the failure.
    res.on('error', () => {});
    res.on('close', () => {
      if (res.complete) return;
      done({
        status,
        body: null,
        error: { code: 'upstream_dropped', message: 'The upstream cut off its answer.' },
      });
      relaying = false;
      outgoing.destroy();
    });
    // A client that left after sending its whole request still gets metered: read the answer for the credits.
    if (!outgoing.destroyed) {
      outgoing.writeHead(status, res.statusMessage, responseHeaders(res.rawHeaders, options.origin));
      relaying = true;
    }
  });

  req.on('error', (err: Error & { code?: string }) => {
    // Cancelled here (client gone, body stalled): the client has its answer already.
    if (over) return;
    const code = err.code === 'KEYWATCH_TIMEOUT' ? 'upstream_timeout' : 'upstream_unavailable';
    const message =
      code === 'upstream_timeout'
        ? err.message
        : `The upstream could not be reached (${err.code ?? err.message}).`;
    done({ status: 502, body: null, error: { code, message } });
    // Metered too (the gateway records the 502), so it waits for the record like any answer.
    afterRecord(() => sendError(outgoing, 502, code, message));
  });

  outgoing.on('close', () => {
    if (over || outgoing.writableFinished) return;
    if (response) {
      // Answered: the provider charged for it; read the rest of the answer for the credits.
      relaying = false;
      response.resume();
      return;
    }
    // The upstream has the whole request and will charge for it: its answer is read when it comes.
    if (delivered) return;
    // Left mid-upload: the upstream never got a whole request. Cancel it rather than let it hold
    // an upstream connection until some timeout.
    req.destroy();
    done({
      // 499: nginx's "client closed request"; never sent, the client is gone.
      status: 499,
      body: null,
      error: { code: 'client_gone', message: 'The client went away before its request was complete.' },
    });
  });
  incoming.pipe(req);
}

const runNow = (then: () => void) => then();
