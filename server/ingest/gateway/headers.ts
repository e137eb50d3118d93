/**
 * Which headers cross the gateway. Hop-by-hop headers never do. On the dashboard's origin (the main
 * `PORT`) an upstream answer is made inert: a browser that is sent there by a link must not run its
 * HTML or receive its cookies as if they were Keywatch's. On the gateway's own port answers pass
 * through unchanged.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

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

/**
 * Never on the dashboard's origin: cookies (they would be the dashboard's), Clear-Site-Data (it
 * would sign users out), and the upstream's own CSP and nosniff (replaced by ours, below).
 */
const NOT_ON_DASHBOARD = new Set([
  'set-cookie',
  'set-cookie2',
  'clear-site-data',
  'content-security-policy',
  'x-content-type-options',
]);

/** A sandboxed, never-sniffed answer runs no script and is treated as its declared type only. */
const INERT = ['X-Content-Type-Options', 'nosniff', 'Content-Security-Policy', 'sandbox'];

export type Origin = 'dashboard' | 'gateway';

export function requestHeaders(headers: IncomingHttpHeaders, host: string): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
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

/** The upstream's raw headers as the client gets them on `origin`. */
export function responseHeaders(raw: string[], origin: Origin): string[] {
  const isolate = origin === 'dashboard';
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (HOP_BY_HOP.has(name) || (isolate && NOT_ON_DASHBOARD.has(name))) continue;
    out.push(raw[i]!, raw[i + 1]!);
  }
  if (isolate) out.push(...INERT);
  return out;
}
