/** The client's IP: the socket peer, or X-Forwarded-For when (and only as far as) proxies are trusted. */
import { BlockList, isIP } from 'node:net';

export type ClientIpResolver = (peer: string | undefined, forwardedFor: string | undefined) => string | null;

/** `trusted` holds IPs or CIDR ranges (`10.0.0.0/8`, `::1`). */
export function createClientIpResolver(trusted: readonly string[]): ClientIpResolver {
  const list = new BlockList();
  for (const entry of trusted) {
    const [addr, bits] = entry.split('/');
    const family = isIP(addr ?? '');
    if (!addr || family === 0) continue;
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(addr, type);
    else list.addSubnet(addr, Number(bits), type);
  }
  const isTrusted = (ip: string) => {
    const family = isIP(ip);
    return family !== 0 && list.check(ip, family === 6 ? 'ipv6' : 'ipv4');
  };
  const hasTrusted = trusted.length > 0;

  return (peer, forwardedFor) => {
    const remote = normalize(peer);
    if (!remote) return null;
    if (!hasTrusted || !forwardedFor || !isTrusted(remote)) return remote;
    // Walk from the nearest hop back; the first address not ours is the client.
    const hops = forwardedFor.split(',').map((h) => normalize(h.trim()));
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i];
      if (!hop) return remote;
      if (!isTrusted(hop)) return hop;
    }
    return hops[0] ?? remote;
  };
}

function normalize(ip: string | undefined): string | null {
  if (!ip) return null;
  const v4mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  const value = v4mapped ? v4mapped[1]! : ip;
  return isIP(value) ? value : null;
}
