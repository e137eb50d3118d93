/**
 * recordEvents(): the one way usage enters storage, for every source (push, gateway, CSV, demo).
 * A batch is one transaction: idempotent per (source, event id), write-through to the buckets,
 * unknown keys registered as discovered.
 */
import { randomId } from '../auth/secrets.ts';
import type { Clock } from '../clock.ts';
import type { Sqlite } from '../db/client.ts';
import { addToBuckets, type BucketDelta } from './buckets.ts';
import { claimOrphanProject } from './projects.ts';

export type KeyRef =
  /** A key's id or name as registered (push, CSV). */
  | { by: 'ref'; value: string }
  /** An HMAC fingerprint `sha256:<hex>`, with the last 4 characters when the secret was seen. */
  | { by: 'fingerprint'; fingerprint: string; last4?: string | null };

export type UsageEvent = {
  source: string;
  eventId: string;
  key: KeyRef;
  ts: number;
  credits: number;
  requests: number;
  status: number;
  operation: string;
  sourceIp?: string | null;
  userAgent?: string | null;
  projectId?: string | null;
  latencyMs?: number | null;
};

export type RecordResult = {
  accepted: number;
  duplicates: number;
  /** Keys registered as discovered by this batch. */
  discovered: { id: string; name: string }[];
};

type Statements = ReturnType<typeof prepare>;
const cache = new WeakMap<Sqlite, Statements>();

function prepare(sqlite: Sqlite) {
  return {
    byRef: sqlite.prepare<[string, string], { id: string }>('SELECT id FROM keys WHERE id = ? OR name = ?'),
    byFingerprint: sqlite.prepare<[string], { id: string }>('SELECT id FROM keys WHERE fingerprint = ?'),
    nameTaken: sqlite.prepare<[string], { id: string }>('SELECT id FROM keys WHERE name = ?'),
    insertKey: sqlite.prepare(
      `INSERT INTO keys (id, name, provider, fingerprint, last4, status, created_at, updated_at)
       VALUES (?, ?, 'magichour', ?, ?, 'discovered', ?, ?)`,
    ),
    insertEvent: sqlite.prepare(
      `INSERT INTO usage_events (source, event_id, key_id, ts, credits, requests, status, operation,
         source_ip, user_agent, project_id, latency_ms, received_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    ),
    // Links a provider project to the key that created it, so webhooks can correct its credits later.
    noteProject: sqlite.prepare(
      `INSERT INTO projects (id, key_id, operation, created_at, estimated_credits, updated_at)
       VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
    ),
    touchKey: sqlite.prepare(
      `UPDATE keys SET
         last_used_at = max(coalesce(last_used_at, @last), @last),
         first_seen_at = min(coalesce(first_seen_at, @first), @first)
       WHERE id = @id`,
    ),
  };
}

function statementsFor(sqlite: Sqlite): Statements {
  let s = cache.get(sqlite);
  if (!s) {
    s = prepare(sqlite);
    cache.set(sqlite, s);
  }
  return s;
}

export function recordEvents(
  deps: { sqlite: Sqlite; clock: Clock },
  events: readonly UsageEvent[],
): RecordResult {
  const st = statementsFor(deps.sqlite);
  const now = deps.clock.now();
  const run = deps.sqlite.transaction((): RecordResult => {
    const keyIds = new Map<string, string>();
    const discovered: RecordResult['discovered'] = [];
    const deltas: BucketDelta[] = [];
    const used = new Map<string, { first: number; last: number }>();
    let accepted = 0;

    // A discovered key exists since its first use, not since we happened to store it.
    const resolve = (ref: KeyRef, firstUse: number): string => {
      const cacheKey = ref.by === 'ref' ? `r:${ref.value}` : `f:${ref.fingerprint}`;
      let id = keyIds.get(cacheKey);
      if (id) return id;
      id =
        ref.by === 'ref' ? st.byRef.get(ref.value, ref.value)?.id : st.byFingerprint.get(ref.fingerprint)?.id;
      if (!id) {
        id = randomId('key_');
        const name = uniqueName(ref.by === 'ref' ? ref.value : discoveredName(ref));
        st.insertKey.run(
          id,
          name,
          ref.by === 'fingerprint' ? ref.fingerprint : null,
          ref.by === 'fingerprint' ? (ref.last4 ?? null) : null,
          Math.min(firstUse, now),
          now,
        );
        discovered.push({ id, name });
      }
      keyIds.set(cacheKey, id);
      return id;
    };

    const uniqueName = (base: string): string => {
      let name = base;
      for (let n = 2; st.nameTaken.get(name); n++) name = `${base}-${n}`;
      return name;
    };

    for (const e of events) {
      const keyId = resolve(e.key, e.ts);
      const inserted = st.insertEvent.run(
        e.source,
        e.eventId,
        keyId,
        e.ts,
        e.credits,
        e.requests,
        e.status,
        e.operation,
        e.sourceIp ?? null,
        e.userAgent ?? null,
        e.projectId ?? null,
        e.latencyMs ?? null,
        now,
      );
      if (inserted.changes === 0) continue;
      accepted++;
      if (
        e.projectId &&
        st.noteProject.run(e.projectId, keyId, e.operation || null, e.ts, e.credits, now).changes === 0
      ) {
        claimOrphanProject(deps.sqlite, {
          projectId: e.projectId,
          keyId,
          operation: e.operation,
          ts: e.ts,
          credits: e.credits,
          now,
        });
      }
      deltas.push({
        keyId,
        ts: e.ts,
        operation: e.operation,
        credits: e.credits,
        requests: e.requests,
        errors: e.status >= 400 ? e.requests : 0,
        authFailures: e.status === 401 ? e.requests : 0,
      });
      const u = used.get(keyId);
      if (u) {
        u.first = Math.min(u.first, e.ts);
        u.last = Math.max(u.last, e.ts);
      } else used.set(keyId, { first: e.ts, last: e.ts });
    }
    addToBuckets(deps.sqlite, deltas);
    for (const [keyId, u] of used) st.touchKey.run({ last: u.last, first: u.first, id: keyId });
    return { accepted, duplicates: events.length - accepted, discovered };
  });
  return run.immediate();
}

/** Without a last 4 (short keys have none), a piece of the HMAC names the key: never the key itself. */
function discoveredName(ref: Extract<KeyRef, { by: 'fingerprint' }>): string {
  return ref.last4 ? `discovered-${ref.last4}` : `discovered-${ref.fingerprint.slice(7, 15)}`;
}
