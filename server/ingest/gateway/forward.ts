/**
 * Forwards one Node request to the upstream and streams the answer back byte for byte (status,
 * headers, body). Bodies flow through without buffering; when asked, a bounded copy of the
 * response body is kept for reading credits. Upstream failures before the answer starts become
 * a 502 JSON error. A client that disconnects early does not cancel the upstream request.
 */
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';

/** Hop-by-hop headers (RFC 9110 7.6.1) are for one connection only and are never forwarded. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * The provider authenticates with the bearer key alone; cookies on this origin are Keywatch's own
 * (the dashboard session) and must never reach the provider.
 */
const NOT_FORWARDED = new Set(['host', 'cookie']);

export type Upstream = {
  url: URL;
  agent: http.Agent;
  timeoutMs: number;
  /** The base URL's path without its trailing slash, prefixed to every forwarded path. */
  basePath: string;
  request: typeof http.request;
};

export type ForwardResult = {
  status: number;
  /** The decoded response body when a copy was asked for, complete and within the limit. */
  body: Buffer | null;
  /** Set when the upstream failed; the client got a 502 (or a cut-off body if it had started). */
  error: { code: 'upstream_timeout' | 'upstream_unavailable' | 'upstream_dropped'; message: string } | null;
};

export function createUpstream(baseUrl: string, timeoutMs: number): Upstream {
  const url = new URL(baseUrl);
  const options = { keepAlive: true, maxSockets: 256, maxFreeSockets: 64 };
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
  copyLimit: number,
): Promise<ForwardResult> {
  const { url, request } = upstream;
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: ForwardResult) => {
      if (!settled) {
        settled = true;
        resolve(r);
      }
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

    let response: IncomingMessage | undefined;
    req.on('response', (res) => {
      response = res;
      const status = res.statusCode ?? 502;
      let chunks: Buffer[] | null = copyLimit > 0 ? [] : null;
      let size = 0;
      if (chunks) {
        res.on('data', (chunk: Buffer) => {
          if (!chunks) return;
          size += chunk.length;
          if (size > copyLimit) chunks = null;
          else chunks.push(chunk);
        });
      }
      res.on('end', () => {
        done({
          status,
          body: chunks ? decode(Buffer.concat(chunks), res.headers, copyLimit) : null,
          error: null,
        });
      });
      // An upstream that drops the connection mid-answer: cut the client off too, so it sees the failure.
      res.on('error', () => {});
      res.on('close', () => {
        if (res.complete) return;
        outgoing.destroy();
        done({
          status,
          body: null,
          error: { code: 'upstream_dropped', message: 'The upstream cut off its answer.' },
        });
      });
      // A client that left still gets metered: read the answer to its end for the credits.
      if (outgoing.destroyed) res.resume();
      else {
        outgoing.writeHead(status, res.statusMessage, responseHeaders(res.rawHeaders));
        res.pipe(outgoing);
      }
    });

    req.on('error', (err: Error & { code?: string }) => {
      const code = err.code === 'KEYWATCH_TIMEOUT' ? 'upstream_timeout' : 'upstream_unavailable';
      const message =
        code === 'upstream_timeout'
          ? err.message
          : `The upstream could not be reached (${err.code ?? err.message}).`;
      if (!outgoing.headersSent && !outgoing.destroyed) {
        const body = JSON.stringify({ error: { code, message } });
        outgoing.writeHead(502, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        });
        outgoing.end(body);
      } else outgoing.destroy();
      done({ status: 502, body: null, error: { code, message } });
    });

    // The client went away: the upstream request still completes (the provider charges for it
    // either way), and its answer is drained so the event carries the real status and credits.
    outgoing.on('close', () => {
      if (outgoing.writableFinished || !response) return;
      response.unpipe(outgoing);
      response.resume();
    });
    incoming.pipe(req);
  });
}

function requestHeaders(headers: IncomingHttpHeaders, host: string): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  // Headers named in Connection are hop-by-hop too; most clients send none or just keep-alive.
  const connection = headers.connection?.toLowerCase();
  const connectionTokens =
    connection && connection !== 'keep-alive' && connection !== 'close'
      ? new Set(connection.split(',').map((t) => t.trim()))
      : null;
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP.has(name) || NOT_FORWARDED.has(name) || connectionTokens?.has(name))
      continue;
    out[name] = value;
  }
  out.host = host;
  return out;
}

function responseHeaders(raw: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (!HOP_BY_HOP.has(raw[i]!.toLowerCase())) out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

/** Decodes a compressed copy for reading (the client still gets the original bytes). */
function decode(body: Buffer, headers: IncomingHttpHeaders, limit: number): Buffer | null {
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
