/**
 * What one batch's accepted events add to the tables kept beside the events: bucket deltas, each
 * key's first and last use, late usage, and the networks and clients a key was used from. Summed
 * here once for both stores (record-events.ts for SQLite, record-events-pg.ts for PostgreSQL), so
 * the two cannot count a batch differently; each store only writes the sums.
 */
import { DAY, floorTo } from '../clock.ts';
import { subjectNetwork } from '../network.ts';
import type { BucketDelta } from './buckets.ts';
import type { UsageEvent } from './record-events.ts';

export type NetworkSum = { keyId: string; network: string; first: number; last: number; requests: number };
export type ClientSum = {
  keyId: string;
  day: number;
  kind: 'ip' | 'ua';
  value: string;
  requests: number;
  credits: number;
  last: number;
};

export type BatchSums = {
  deltas: BucketDelta[];
  /** Per key id: the first and last use in the batch. */
  used: Map<string, { first: number; last: number }>;
  /** Per key id: its earliest usage in minutes detection already judged, and whether to alert on it. */
  late: Map<string, { ts: number; alert: boolean }>;
  networks: Map<string, NetworkSum>;
  clients: Map<string, ClientSum>;
  add(keyId: string, e: UsageEvent): void;
};

/** `judgedUntil`: detection's cursor (null before it first ran); usage stamped before it is late. */
export function startBatchSums(judgedUntil: number | null): BatchSums {
  const networkOf = new Map<string, string>();
  const sums: BatchSums = {
    deltas: [],
    used: new Map(),
    late: new Map(),
    networks: new Map(),
    clients: new Map(),
    add(keyId, e) {
      sums.deltas.push({
        keyId,
        ts: e.ts,
        operation: e.operation,
        credits: e.credits,
        requests: e.requests,
        errors: e.status >= 400 ? e.requests : 0,
        authFailures: e.status === 401 ? e.requests : 0,
      });
      const u = sums.used.get(keyId);
      if (u) {
        u.first = Math.min(u.first, e.ts);
        u.last = Math.max(u.last, e.ts);
      } else sums.used.set(keyId, { first: e.ts, last: e.ts });
      if (judgedUntil !== null && e.ts < judgedUntil) {
        const l = sums.late.get(keyId);
        // Imported history is learned, never alerted on.
        const alert = e.source !== 'csv';
        sums.late.set(keyId, { ts: Math.min(l?.ts ?? e.ts, e.ts), alert: alert || (l?.alert ?? false) });
      }
      if (e.sourceIp) {
        let network = networkOf.get(e.sourceIp);
        if (network === undefined) {
          network = subjectNetwork(e.sourceIp);
          networkOf.set(e.sourceIp, network);
        }
        const id = `${keyId}\u0000${network}`;
        const n = sums.networks.get(id);
        if (n) {
          n.first = Math.min(n.first, e.ts);
          n.last = Math.max(n.last, e.ts);
          n.requests += e.requests;
        } else sums.networks.set(id, { keyId, network, first: e.ts, last: e.ts, requests: e.requests });
      }
      const day = floorTo(e.ts, DAY);
      addClient(sums.clients, keyId, day, 'ip', e.sourceIp ?? '', e);
      addClient(sums.clients, keyId, day, 'ua', e.userAgent ?? '', e);
    },
  };
  return sums;
}

function addClient(
  clients: Map<string, ClientSum>,
  keyId: string,
  day: number,
  kind: 'ip' | 'ua',
  value: string,
  e: UsageEvent,
) {
  const id = `${keyId}\u0000${day}\u0000${kind}\u0000${value}`;
  const c = clients.get(id);
  if (c) {
    c.requests += e.requests;
    c.credits += e.credits;
    c.last = Math.max(c.last, e.ts);
  } else clients.set(id, { keyId, day, kind, value, requests: e.requests, credits: e.credits, last: e.ts });
}
