/**
 * Request bodies that stop arriving: one sweep timer per idle limit for every body in flight,
 * instead of a timer armed, refreshed on every chunk and cleared for each request (the gateway's
 * busiest path). Progress is read from the connection's byte count, so a body costs no listener
 * either. A body is stalled once no byte arrived for `idleMs`, found within a quarter of `idleMs`
 * after that; a body held back by backpressure (its stream paused) is not the client's pause.
 */
import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';

export type WatchedBody = {
  incoming: IncomingMessage;
  /** Called once when the body stalls; the entry is no longer watched then. */
  onStall: () => void;
  /** The connection's bytes read when progress was last seen, and when (performance.now()). */
  bytes: number;
  since: number;
};

type Sweep = { bodies: Set<WatchedBody>; timer: NodeJS.Timeout | null };

const sweeps = new Map<number, Sweep>();

export function watchBody(incoming: IncomingMessage, idleMs: number, onStall: () => void): WatchedBody {
  let sweep = sweeps.get(idleMs);
  if (!sweep) {
    sweep = { bodies: new Set(), timer: null };
    sweeps.set(idleMs, sweep);
  }
  const body: WatchedBody = {
    incoming,
    onStall,
    bytes: incoming.socket?.bytesRead ?? 0,
    since: performance.now(),
  };
  sweep.bodies.add(body);
  if (!sweep.timer) {
    const s = sweep;
    // Unref'd: a body in flight never keeps the process alive by itself.
    s.timer = setInterval(() => check(s, idleMs), Math.max(10, Math.floor(idleMs / 4))).unref();
  }
  return body;
}

/** The body is complete, or its request is over: no longer watched. */
export function unwatchBody(body: WatchedBody, idleMs: number): void {
  const sweep = sweeps.get(idleMs);
  if (!sweep?.bodies.delete(body) || sweep.bodies.size > 0 || !sweep.timer) return;
  clearInterval(sweep.timer);
  sweep.timer = null;
}

function check(sweep: Sweep, idleMs: number) {
  const now = performance.now();
  for (const body of sweep.bodies) {
    const { incoming } = body;
    if (incoming.complete) {
      unwatchBody(body, idleMs);
      continue;
    }
    const bytes = incoming.socket?.bytesRead ?? body.bytes;
    // Paused by backpressure: the wait is ours (the upstream is slow to take the body), not the client's.
    if (bytes !== body.bytes || incoming.isPaused()) {
      body.bytes = bytes;
      body.since = now;
    } else if (now - body.since >= idleMs) {
      unwatchBody(body, idleMs);
      body.onStall();
    }
  }
}
