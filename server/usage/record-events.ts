/**
 * recordEvents(): the one way usage enters storage, for every source (push, gateway, CSV, demo).
 * A batch is one transaction: idempotent per (source, event id), unknown keys registered as
 * discovered, and its rollups either written with it (write-through, the default) or left to the
 * fold (`deferRollups`: the push worker, which folds on a timer; see fold-usage.ts).
 */
import { randomId } from '../auth/secrets.ts';
import { type Clock, HOUR } from '../clock.ts';
import type { Sqlite } from '../db/client.ts';
import { preparedPerConnection } from '../db/statements.ts';
import { subjectNetwork } from '../network.ts';
import { startBatchSums } from './batch-sums.ts';
import { foldAllUsage, foldPosition, lastEventRowid, markFolded, writeRollups } from './fold-usage.ts';
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
  /** Origin only (scheme://host[:port]) of an Origin/Referer header: never a path or query. */
  clientOrigin?: string | null;
  projectId?: string | null;
  latencyMs?: number | null;
};

export type RecordResult = {
  accepted: number;
  duplicates: number;
  /** Keys registered as discovered by this batch. */
  discovered: { id: string; name: string }[];
};

/** New keys one client network may add through the gateway in an hour before they share one row. */
export const DISCOVERY_LIMIT = 5;

function prepare(sqlite: Sqlite) {
  return {
    byRef: sqlite.prepare<[string, string], { id: string }>('SELECT id FROM keys WHERE id = ? OR name = ?'),
    byFingerprint: sqlite.prepare<[string], { id: string }>('SELECT id FROM keys WHERE fingerprint = ?'),
    nameTaken: sqlite.prepare<[string], { id: string }>('SELECT id FROM keys WHERE name = ?'),
    insertKey: sqlite.prepare(
      `INSERT INTO keys (id, name, provider, fingerprint, last4, status, created_at, updated_at, discovered_network)
       VALUES (?, ?, 'magichour', ?, ?, 'discovered', ?, ?, ?)`,
    ),
    // Detection's cursor: every minute ending at or before it has been judged.
    judgedUntil: sqlite
      .prepare<[], number>(`SELECT evaluated_until FROM detector_state WHERE key_id = ''`)
      .pluck(),
    noteLate: sqlite.prepare(
      `INSERT INTO late_usage (key_id, earliest_ts, arrived_at, alert) VALUES (@keyId, @ts, @now, @alert)
       ON CONFLICT (key_id) DO UPDATE SET earliest_ts = min(earliest_ts, excluded.earliest_ts),
         arrived_at = excluded.arrived_at, alert = max(alert, excluded.alert)`,
    ),
    discoveredSince: sqlite
      .prepare<[string, number], number>(
        'SELECT count(*) FROM keys WHERE discovered_network = ? AND created_at >= ?',
      )
      .pluck(),
    eventStored: sqlite.prepare<[string, string], number>(
      'SELECT 1 FROM usage_events WHERE source = ? AND event_id = ?',
    ),
    insertEvent: sqlite.prepare(
      `INSERT INTO usage_events (source, event_id, key_id, ts, credits, requests, status, operation,
         source_ip, user_agent, project_id, latency_ms, received_at, client_origin)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
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

const statementsFor = preparedPerConnection(prepare);

export type RecordOptions = {
  /**
   * Leave the rollups to the fold (fold-usage.ts): the batch commits its events, keys and late
   * usage only. The caller folds on a timer; every read of the rollups passes settleUsage() first.
   */
  deferRollups?: boolean;
};

export function recordEvents(
  deps: { sqlite: Sqlite; clock: Clock },
  events: readonly UsageEvent[],
  options: RecordOptions = {},
): RecordResult {
  const st = statementsFor(deps.sqlite);
  const now = deps.clock.now();
  const defer = options.deferRollups ?? false;
  const run = deps.sqlite.transaction((): RecordResult => {
    const keyIds = new Map<string, string>();
    const discovered: RecordResult['discovered'] = [];
    // Before any insert: a mark left past the table's end is brought back (foldPosition).
    const position = foldPosition(deps.sqlite);
    // Usage for minutes detection already judged, per key: judged again on the next run.
    const sums = startBatchSums(st.judgedUntil.get() ?? null, { rollups: !defer });
    let accepted = 0;

    // A discovered key exists since its first use, not since we happened to store it.
    // null: the key is unknown and the event a duplicate, which changes nothing (no key discovered).
    const resolve = (e: UsageEvent): string | null => {
      const { key: ref } = e;
      const cacheKey = ref.by === 'ref' ? `r:${ref.value}` : `f:${ref.fingerprint}`;
      let id = keyIds.get(cacheKey);
      if (id) return id;
      id =
        ref.by === 'ref' ? st.byRef.get(ref.value, ref.value)?.id : st.byFingerprint.get(ref.fingerprint)?.id;
      if (!id) {
        if (st.eventStored.get(e.source, e.eventId) !== undefined) return null;
        // Unauthenticated gateway clients cannot mint keys without end: past a few new tokens an
        // hour from one network, the rest is counted on that network's one "unknown keys" row.
        const network = e.source === 'gateway' && e.sourceIp ? subjectNetwork(e.sourceIp) : null;
        const flooded =
          network !== null &&
          ref.by === 'fingerprint' &&
          st.discoveredSince.get(network, now - HOUR)! >= DISCOVERY_LIMIT;
        const fingerprint = flooded
          ? `network:${network}`
          : ref.by === 'fingerprint'
            ? ref.fingerprint
            : null;
        id = flooded ? st.byFingerprint.get(fingerprint!)?.id : undefined;
        if (!id) {
          id = randomId('key_');
          const name = uniqueName(
            flooded ? `unknown keys ${network}` : ref.by === 'ref' ? ref.value : discoveredName(ref),
          );
          const last4 = ref.by === 'fingerprint' && !flooded ? (ref.last4 ?? null) : null;
          st.insertKey.run(id, name, fingerprint, last4, Math.min(e.ts, now), now, network);
          discovered.push({ id, name });
        }
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
      const keyId = resolve(e);
      if (keyId === null) continue;
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
        e.clientOrigin ?? null,
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
      sums.add(keyId, e);
    }
    if (!defer && accepted > 0) {
      if (position.mark === position.last) {
        // Nothing was pending: the batch's own sums are its rollups, and the mark moves past it.
        writeRollups(deps.sqlite, sums);
        markFolded(deps.sqlite, lastEventRowid(deps.sqlite));
      } else {
        // Deferred batches wait before this one: fold them and this one, in order, from the table.
        foldAllUsage(deps.sqlite);
      }
    }
    for (const [keyId, u] of sums.used) st.touchKey.run({ last: u.last, first: u.first, id: keyId });
    for (const [keyId, l] of sums.late) st.noteLate.run({ keyId, ts: l.ts, now, alert: l.alert ? 1 : 0 });
    return { accepted, duplicates: events.length - accepted, discovered };
  });
  return run.immediate();
}

/** Without a last 4 (short keys have none), a piece of the HMAC names the key: never the key itself. */
function discoveredName(ref: Extract<KeyRef, { by: 'fingerprint' }>): string {
  return ref.last4 ? `discovered-${ref.last4}` : `discovered-${ref.fingerprint.slice(7, 15)}`;
}
