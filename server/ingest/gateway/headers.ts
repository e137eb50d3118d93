/** Which headers cross the gateway: hop-by-hop headers never do, nor Keywatch's own cookies. */
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

/** The upstream's raw headers as the client gets them. */
export function responseHeaders(raw: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (!HOP_BY_HOP.has(raw[i]!.toLowerCase())) out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}
