/**
 * Requests in flight per client, so that one client (a stalled uploader, a runaway retry loop)
 * cannot take every upstream connection: past its limit a client is answered 429 at once and the
 * rest of the gateway carries on. The map holds only clients with something in flight.
 */
import { isIPv6 } from 'node:net';

export type ClientSlots = {
  /** Takes a slot for `client`; false when it has `max` requests in flight already. */
  take(client: string): boolean;
  give(client: string): void;
  inFlight(client: string): number;
};

export function createClientSlots(max: number): ClientSlots {
  const counts = new Map<string, number>();
  return {
    take(client) {
      const n = counts.get(client) ?? 0;
      if (n >= max) return false;
      counts.set(client, n + 1);
      return true;
    },
    give(client) {
      const n = counts.get(client) ?? 0;
      if (n <= 1) counts.delete(client);
      else counts.set(client, n - 1);
    },
    inFlight: (client) => counts.get(client) ?? 0,
  };
}

/**
 * Whose slots a request uses: its IPv4 address, or the /64 of its IPv6 address (one host usually
 * holds a whole /64, so counting single addresses would give it billions of limits).
 */
export function clientOf(ip: string | null): string {
  if (!ip) return 'unknown';
  if (!isIPv6(ip)) return ip;
  const [head = '', tail] = ip.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  // An embedded IPv4 tail (::ffff:1.2.3.4) only ever sits in the low 64 bits.
  const fill = tail === undefined ? [] : Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0');
  const groups = [...left, ...fill, ...right].slice(0, 4).map((g) => Number.parseInt(g, 16).toString(16));
  return `${groups.join(':')}::/64`;
}
