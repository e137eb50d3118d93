/**
 * What one batch's accepted events add to the tables kept beside the events: bucket deltas, each
 * key's first and last use, late usage, and the networks and clients a key was used from. Summed
 * here once for both stores (record-events.ts for SQLite, record-events-pg.ts for PostgreSQL), so
 * the two cannot count a batch differently; each store only writes the sums.
 */
import { DAY, floorTo, MINUTE } from '../clock.ts';
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
  /** Bucket deltas, already summed per (key, minute, operation). */
  deltas: BucketDelta[];
  /** Per key id: the first and last use in the batch. */
  used: Map<string, { first: number; last: number }>;
  /** Per key id: its earliest usage in minutes detection already judged, and whether to alert on it. */
  late: Map<string, { ts: number; alert: boolean }>;
  networks: Map<string, NetworkSum>;
  clients: Map<string, ClientSum>;
  add(keyId: string, e: SummedEvent): void;
};

/** What the sums read of an event: a stored row read back (the fold) has these too. */
export type SummedEvent = Pick<
  UsageEvent,
  'source' | 'ts' | 'credits' | 'requests' | 'status' | 'operation' | 'sourceIp' | 'userAgent'
>;

/**
 * `judgedUntil`: detection's cursor (null before it first ran); usage stamped before it is late.
 * `rollups: false` sums only first/last use and late usage: a batch whose rollups the fold adds
 * later (fold-usage.ts) has no use for its deltas, networks and clients.
 */
export function startBatchSums(judgedUntil: number | null, options: { rollups?: boolean } = {}): BatchSums {
  const rollups = options.rollups ?? true;
  const networkOf = new Map<string, string>();
  // Lookups by nested maps, not by a string id built per event: a batch is mostly the same few keys,
  // minutes, clients and networks again, and the string per event and per table (with a delta object
  // per event) was most of the writer thread's garbage. An id string is built only for a new row.
  const minuteRows = new Nested<BucketDelta>();
  const networkRows = new Nested<NetworkSum>();
  const clientRows = { ip: new Nested<ClientSum>(), ua: new Nested<ClientSum>() };
  const addClient = (keyId: string, day: number, kind: 'ip' | 'ua', value: string, e: SummedEvent) => {
    const c = clientRows[kind].get(keyId, day, value);
    if (c) {
      c.requests += e.requests;
      c.credits += e.credits;
      c.last = Math.max(c.last, e.ts);
      return;
    }
    const row: ClientSum = { keyId, day, kind, value, requests: e.requests, credits: e.credits, last: e.ts };
    clientRows[kind].set(keyId, day, value, row);
    sums.clients.set(`${keyId}\u0000${day}\u0000${kind}\u0000${value}`, row);
  };
  const sums: BatchSums = {
    deltas: [],
    used: new Map(),
    late: new Map(),
    networks: new Map(),
    clients: new Map(),
    add(keyId, e) {
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
      if (!rollups) return;
      // Summed per minute here already (coarser buckets contain minutes: rollUp gives the same sums).
      const minute = floorTo(e.ts, MINUTE);
      const errors = e.status >= 400 ? e.requests : 0;
      const authFailures = e.status === 401 ? e.requests : 0;
      const m = minuteRows.get(keyId, minute, e.operation);
      if (m) {
        m.credits += e.credits;
        m.requests += e.requests;
        m.errors += errors;
        m.authFailures += authFailures;
      } else {
        const row: BucketDelta = {
          keyId,
          ts: minute,
          operation: e.operation,
          credits: e.credits,
          requests: e.requests,
          errors,
          authFailures,
        };
        minuteRows.set(keyId, minute, e.operation, row);
        sums.deltas.push(row);
      }
      if (e.sourceIp) {
        let network = networkOf.get(e.sourceIp);
        if (network === undefined) {
          network = subjectNetwork(e.sourceIp);
          networkOf.set(e.sourceIp, network);
        }
        const n = networkRows.get(keyId, 0, network);
        if (n) {
          n.first = Math.min(n.first, e.ts);
          n.last = Math.max(n.last, e.ts);
          n.requests += e.requests;
        } else {
          const row: NetworkSum = { keyId, network, first: e.ts, last: e.ts, requests: e.requests };
          networkRows.set(keyId, 0, network, row);
          sums.networks.set(`${keyId}\u0000${network}`, row);
        }
      }
      const day = floorTo(e.ts, DAY);
      addClient(keyId, day, 'ip', e.sourceIp ?? '', e);
      addClient(keyId, day, 'ua', e.userAgent ?? '', e);
    },
  };
  return sums;
}

/** Rows by (key id, a number, a string): three map lookups and no string built per event. */
class Nested<T> {
  private readonly byKey = new Map<string, Map<number, Map<string, T>>>();
  get(keyId: string, n: number, s: string): T | undefined {
    return this.byKey.get(keyId)?.get(n)?.get(s);
  }
  set(keyId: string, n: number, s: string, row: T): void {
    let byN = this.byKey.get(keyId);
    if (!byN) {
      byN = new Map();
      this.byKey.set(keyId, byN);
    }
    let byS = byN.get(n);
    if (!byS) {
      byS = new Map();
      byN.set(n, byS);
    }
    byS.set(s, row);
  }
}
