/**
 * Which of several Keywatch processes on one PostgreSQL database runs the scheduled jobs: the one
 * holding a session-level advisory lock. The lock lives as long as the connection that took it, so
 * it sits on a dedicated client (never a pooled one, which would hand the session to other queries
 * and drop it unpredictably). A process that dies, even by SIGKILL, loses its connection and with
 * it the lock; the others try again every `pollMs` (at most 20 s), so one takes over within that.
 */
import pg from 'pg';
import type { Logger } from '../log.ts';

/** "keywatch" in ASCII as a 64-bit key: advisory locks share one namespace per database. */
export const JOBS_LOCK_KEY = '7738144525224944488';
export const MAX_POLL_MS = 20_000;

export type Leadership = {
  isLeader(): boolean;
  /** Releases the lock (when held) and closes the dedicated connection. */
  close(): Promise<void>;
};

export type LeadershipOptions = {
  url: string;
  pollMs?: number;
  lockKey?: string;
  /** Called on every change: true when this process became the leader, false when it stopped being one. */
  onChange?: (leader: boolean) => void;
  log?: Logger;
};

export async function startLeadership(options: LeadershipOptions): Promise<Leadership> {
  const pollMs = options.pollMs ?? 15_000;
  if (!(pollMs > 0 && pollMs <= MAX_POLL_MS))
    throw new RangeError(`pollMs must be from 1 to ${MAX_POLL_MS} ms: a takeover must not wait longer.`);
  const key = options.lockKey ?? JOBS_LOCK_KEY;
  let client: pg.Client | undefined;
  let leader = false;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let polling: Promise<void> = Promise.resolve();

  const setLeader = (value: boolean) => {
    if (value === leader) return;
    leader = value;
    options.log?.info(value ? 'became the job leader' : 'no longer the job leader', { lock: key });
    options.onChange?.(value);
  };

  /** The connection broke: whatever it held, the server has released. */
  const drop = (c: pg.Client) => {
    if (client !== c) return;
    client = undefined;
    c.end().catch(() => {});
    setLeader(false);
  };

  const poll = async () => {
    try {
      if (!client) {
        // A leader whose server stops answering must not go on believing it leads: every check is
        // bounded by the poll interval, and keep-alives find a silently dead peer.
        const c = new pg.Client({
          connectionString: options.url,
          connectionTimeoutMillis: Math.min(pollMs, 10_000),
          query_timeout: pollMs,
          keepAlive: true,
        });
        c.on('error', () => drop(c));
        await c.connect();
        if (closed) {
          await c.end();
          return;
        }
        client = c;
      }
      const c = client;
      if (leader) {
        // Still connected means still holding it; a failed query means the session (and lock) is gone.
        await c.query('SELECT 1');
      } else {
        const r = await c.query<{ got: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS got', [key]);
        if (r.rows[0]?.got && !closed) setLeader(true);
      }
    } catch (e) {
      options.log?.warn('job leadership check failed', { error: String((e as Error)?.message ?? e) });
      if (client) drop(client);
    }
  };

  const schedule = () => {
    if (closed) return;
    timer = setTimeout(() => {
      polling = poll().finally(schedule);
    }, pollMs);
  };

  polling = poll();
  await polling;
  schedule();

  return {
    isLeader: () => leader,
    async close() {
      if (closed) return;
      closed = true;
      if (timer) clearTimeout(timer);
      await polling.catch(() => {});
      const c = client;
      client = undefined;
      const held = leader;
      // Told first, released after: this process's jobs stop before another's may start.
      setLeader(false);
      if (c) {
        if (held) await c.query('SELECT pg_advisory_unlock($1::bigint)', [key]).catch(() => {});
        await c.end().catch(() => {});
      }
    },
  };
}
