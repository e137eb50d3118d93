/**
 * recordEvents for PostgreSQL: the same semantics as record-events.ts (idempotent per (source,
 * event id), one transaction per batch, write-through to every bucket and total table, discovered
 * keys, late-usage notes, projects, networks and clients), written set-based: each table is one
 * INSERT ... SELECT FROM unnest(...) ON CONFLICT per batch. Safe with several processes ingesting at
 * once: event ids and discovered keys are decided by unique constraints (ON CONFLICT), never by a
 * read before the write; rows are written in a fixed order so two batches cannot deadlock.
 */
import type pg from 'pg';
import { randomId } from '../auth/secrets.ts';
import { type Clock, HOUR } from '../clock.ts';
import { subjectNetwork } from '../network.ts';
import { type BatchSums, startBatchSums } from './batch-sums.ts';
import type { BucketDelta } from './buckets.ts';
import { addToBucketsPg, cmp } from './buckets-pg.ts';
import { finalizeProjectPg } from './projects.ts';
import { DISCOVERY_LIMIT, type KeyRef, type RecordResult, type UsageEvent } from './record-events.ts';
import type { ProjectFinal, UsageRecorder } from './recorder.ts';

/** The first half of the advisory lock on a network's key discovery ("kwdi" in ASCII). */
const DISCOVERY_LOCK = 0x6b776469;
/** Tries a batch at most this many times when PostgreSQL ends it as a deadlock victim. */
const ATTEMPTS = 3;

export function pgUsageRecorder(deps: { pool: pg.Pool; clock: Clock }): UsageRecorder {
  const once = async (events: readonly UsageEvent[], finals: readonly ProjectFinal[]) => {
    const client = await deps.pool.connect();
    try {
      await client.query('BEGIN');
      const now = deps.clock.now();
      const result = await recordBatch(client, now, events);
      for (const f of finals) await finalizeProjectPg(client, { ...f, now });
      await client.query('COMMIT');
      return result;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      throw e;
    } finally {
      client.release();
    }
  };
  return {
    record: async (events, finals = []) => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await once(events, finals);
        } catch (e) {
          // Rows are written in a fixed order, but new keys are registered in batch order (their
          // names depend on it): two batches discovering the same keys in opposite orders can
          // deadlock, and PostgreSQL rolls one back whole. It is simply sent again.
          if ((e as { code?: string }).code !== '40P01' || attempt >= ATTEMPTS) throw e;
        }
      }
    },
  };
}

async function recordBatch(
  c: pg.PoolClient,
  now: number,
  events: readonly UsageEvent[],
): Promise<RecordResult> {
  const discovered: RecordResult['discovered'] = [];
  const keyIds = await resolveKeys(c, now, events, discovered);
  const keyOf = (e: UsageEvent) => keyIds.get(refKey(e.key))!;

  // The first of a batch's copies of an event is the one stored, as in SQLite's loop.
  const firsts = new Map<string, UsageEvent>();
  for (const e of events) {
    const id = `${e.source}\u0000${e.eventId}`;
    if (!firsts.has(id)) firsts.set(id, e);
  }
  // Events left without a key are duplicates naming a key nobody registered (see resolveKeys).
  const unique = [...firsts.values()]
    .filter((e) => keyIds.has(refKey(e.key)))
    .sort((a, b) => cmp(a.source, b.source) || cmp(a.eventId, b.eventId));
  const inserted = await c.query<{ source: string; event_id: string }>(
    `INSERT INTO usage_events (source, event_id, key_id, ts, credits, requests, status, operation,
       source_ip, user_agent, project_id, latency_ms, received_at, client_origin)
     SELECT u.source, u.event_id, u.key_id, u.ts, u.credits, u.requests, u.status, u.operation,
       u.source_ip, u.user_agent, u.project_id, u.latency_ms, $13, u.client_origin
     FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::float8[], $6::bigint[], $7::int[],
       $8::text[], $9::text[], $10::text[], $11::text[], $12::float8[], $14::text[])
       WITH ORDINALITY AS u(source, event_id, key_id, ts, credits, requests, status, operation, source_ip,
         user_agent, project_id, latency_ms, client_origin, ord)
     ORDER BY u.ord
     ON CONFLICT DO NOTHING RETURNING source, event_id`,
    [
      unique.map((e) => e.source),
      unique.map((e) => e.eventId),
      unique.map(keyOf),
      unique.map((e) => e.ts),
      unique.map((e) => e.credits),
      unique.map((e) => e.requests),
      unique.map((e) => e.status),
      unique.map((e) => e.operation),
      unique.map((e) => e.sourceIp ?? null),
      unique.map((e) => e.userAgent ?? null),
      unique.map((e) => e.projectId ?? null),
      unique.map((e) => e.latencyMs ?? null),
      now,
      unique.map((e) => e.clientOrigin ?? null),
    ],
  );
  const stored = new Set(inserted.rows.map((r) => `${r.source}\u0000${r.event_id}`));
  // In batch order, as SQLite's loop sees them.
  const accepted = [...firsts.entries()].filter(([id]) => stored.has(id)).map(([, e]) => e);

  const sums = startBatchSums(accepted.length > 0 ? await judgedUntil(c) : null);
  for (const e of accepted) sums.add(keyOf(e), e);
  sums.deltas.push(...(await noteProjects(c, now, accepted, keyOf)));
  await addToBucketsPg(c, sums.deltas);
  await noteNetworksAndClients(c, sums);
  await touchKeys(c, sums);
  await noteLate(c, now, sums);
  return { accepted: accepted.length, duplicates: events.length - accepted.length, discovered };
}

const refKey = (ref: KeyRef) => (ref.by === 'ref' ? `r:${ref.value}` : `f:${ref.fingerprint}`);

/**
 * Known keys in one read; unknown ones registered in batch order (rare: one statement each). A key
 * another process registers meanwhile makes our INSERT do nothing, and the next read finds its row.
 */
async function resolveKeys(
  c: pg.PoolClient,
  now: number,
  events: readonly UsageEvent[],
  discovered: RecordResult['discovered'],
): Promise<Map<string, string>> {
  const refs = [...new Set(events.flatMap((e) => (e.key.by === 'ref' ? [e.key.value] : [])))];
  const fingerprints = [
    ...new Set(events.flatMap((e) => (e.key.by === 'fingerprint' ? [e.key.fingerprint] : []))),
  ];
  const known = await c.query<{ id: string; name: string; fingerprint: string | null }>(
    `SELECT id, name, fingerprint FROM keys WHERE id = ANY($1) OR name = ANY($1) OR fingerprint = ANY($2)`,
    [refs, fingerprints],
  );
  const byId = new Map(known.rows.map((r) => [r.id, r.id]));
  const byName = new Map(known.rows.map((r) => [r.name, r.id]));
  const byFingerprint = new Map(
    known.rows.flatMap((r) => (r.fingerprint ? [[r.fingerprint, r.id] as const] : [])),
  );
  const ids = new Map<string, string>();
  for (const e of events) {
    const k = refKey(e.key);
    if (ids.has(k)) continue;
    const ref = e.key;
    // SQLite's `id = ? OR name = ?` takes the first row in rowid order; an id match is the usual case.
    const id =
      ref.by === 'ref' ? (byId.get(ref.value) ?? byName.get(ref.value)) : byFingerprint.get(ref.fingerprint);
    if (id !== undefined) ids.set(k, id);
    // A duplicate changes nothing: a key is discovered only for an event not stored before.
    else if (
      await anyNotStored(
        c,
        events.filter((x) => refKey(x.key) === k),
      )
    )
      ids.set(k, await discover(c, now, e, discovered));
  }
  return ids;
}

async function anyNotStored(c: pg.PoolClient, events: readonly UsageEvent[]): Promise<boolean> {
  const distinct = [...new Map(events.map((e) => [`${e.source}\u0000${e.eventId}`, e])).values()];
  const found = await c.query<{ n: string }>(
    `SELECT count(*) AS n FROM usage_events
     WHERE (source, event_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
    [distinct.map((e) => e.source), distinct.map((e) => e.eventId)],
  );
  return Number(found.rows[0]?.n ?? 0) < distinct.length;
}

async function discover(
  c: pg.PoolClient,
  now: number,
  e: UsageEvent,
  discovered: RecordResult['discovered'],
): Promise<string> {
  const ref = e.key;
  const network = e.source === 'gateway' && e.sourceIp ? subjectNetwork(e.sourceIp) : null;
  let flooded = false;
  if (network !== null && ref.by === 'fingerprint') {
    // One process at a time counts and registers a network's new keys (until its commit), so the
    // limit holds across processes as SQLite's one writer holds it. A lock of two 32-bit keys: its
    // space is apart from the leader's 64-bit one.
    await c.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [DISCOVERY_LOCK, network]);
    const n = await c.query<{ n: string }>(
      'SELECT count(*) AS n FROM keys WHERE discovered_network = $1 AND created_at >= $2',
      [network, now - HOUR],
    );
    flooded = Number(n.rows[0]!.n) >= DISCOVERY_LIMIT;
  }
  const fingerprint = flooded ? `network:${network}` : ref.by === 'fingerprint' ? ref.fingerprint : null;
  const base = flooded ? `unknown keys ${network}` : ref.by === 'ref' ? ref.value : discoveredName(ref);
  const last4 = ref.by === 'fingerprint' && !flooded ? (ref.last4 ?? null) : null;
  for (let n = 1; ; n++) {
    const existing = await c.query<{ id: string }>(
      fingerprint === null
        ? 'SELECT id FROM keys WHERE id = $1 OR name = $1'
        : 'SELECT id FROM keys WHERE fingerprint = $1',
      [fingerprint ?? base],
    );
    // Registered meanwhile by another process (a ref names its key; a fingerprint is unique).
    if (existing.rows[0]) return existing.rows[0].id;
    const name = n === 1 ? base : `${base}-${n}`;
    const id = randomId('key_');
    const row = await c.query<{ id: string }>(
      `INSERT INTO keys (id, name, provider, fingerprint, last4, status, created_at, updated_at, discovered_network)
       VALUES ($1, $2, 'magichour', $3, $4, 'discovered', $5, $6, $7) ON CONFLICT DO NOTHING RETURNING id`,
      [id, name, fingerprint, last4, Math.min(e.ts, now), now, network],
    );
    if (row.rows[0]) {
      discovered.push({ id, name });
      return id;
    }
  }
}

/** Without a last 4 (short keys have none), a piece of the HMAC names the key: never the key itself. */
function discoveredName(ref: Extract<KeyRef, { by: 'fingerprint' }>): string {
  return ref.last4 ? `discovered-${ref.last4}` : `discovered-${ref.fingerprint.slice(7, 15)}`;
}

/**
 * Links each accepted event's project to its key; a project only a webhook knew (no key yet) is
 * claimed, its unattributed spend withdrawn, and its final credits booked against the estimate
 * (projects.ts's claimOrphanProject). Returns those bookings as deltas.
 */
async function noteProjects(
  c: pg.PoolClient,
  now: number,
  accepted: UsageEvent[],
  keyOf: (e: UsageEvent) => string,
): Promise<BucketDelta[]> {
  const firsts = new Map<string, UsageEvent>();
  for (const e of accepted) if (e.projectId && !firsts.has(e.projectId)) firsts.set(e.projectId, e);
  if (firsts.size === 0) return [];
  const ps = [...firsts.entries()].sort(([a], [b]) => cmp(a, b)).map(([, e]) => e);
  const columns = [
    ps.map((e) => e.projectId!),
    ps.map(keyOf),
    ps.map((e) => e.operation || null),
    ps.map((e) => e.ts),
    ps.map((e) => e.credits),
    now,
  ];
  const inserted = await c.query<{ id: string }>(
    `INSERT INTO projects (id, key_id, operation, created_at, estimated_credits, updated_at)
     SELECT u.id, u.key_id, u.operation, u.ts, u.credits, $6
     FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::float8[]) AS u(id, key_id, operation, ts, credits)
     ON CONFLICT (id) DO NOTHING RETURNING id`,
    columns,
  );
  if (inserted.rows.length === ps.length) return [];
  const claimed = await c.query<{ id: string; final_credits: number | null }>(
    `UPDATE projects p SET key_id = u.key_id, operation = u.operation, created_at = u.ts,
       estimated_credits = u.credits, updated_at = $6
     FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::float8[]) AS u(id, key_id, operation, ts, credits)
     WHERE p.id = u.id AND p.key_id IS NULL RETURNING p.id, p.final_credits`,
    columns,
  );
  if (claimed.rows.length === 0) return [];
  await c.query(`DELETE FROM unattributed_spend WHERE source = 'webhook' AND project_id = ANY($1)`, [
    claimed.rows.map((r) => r.id),
  ]);
  return claimed.rows.flatMap((r) => {
    const e = firsts.get(r.id)!;
    if (r.final_credits === null || r.final_credits === e.credits) return [];
    const credits = r.final_credits - e.credits;
    return [
      { keyId: keyOf(e), ts: e.ts, operation: e.operation, credits, requests: 0, errors: 0, authFailures: 0 },
    ];
  });
}

async function noteNetworksAndClients(c: pg.PoolClient, sums: BatchSums): Promise<void> {
  const ns = [...sums.networks.entries()].sort(([a], [b]) => cmp(a, b)).map(([, n]) => n);
  if (ns.length > 0)
    await c.query(
      `INSERT INTO key_networks AS t (key_id, network, first_seen_at, last_seen_at, requests)
       SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[])
       ON CONFLICT (key_id, network) DO UPDATE SET first_seen_at = least(t.first_seen_at, excluded.first_seen_at),
         last_seen_at = greatest(t.last_seen_at, excluded.last_seen_at), requests = t.requests + excluded.requests`,
      [
        ns.map((n) => n.keyId),
        ns.map((n) => n.network),
        ns.map((n) => n.first),
        ns.map((n) => n.last),
        ns.map((n) => n.requests),
      ],
    );
  const cs = [...sums.clients.entries()].sort(([a], [b]) => cmp(a, b)).map(([, n]) => n);
  if (cs.length > 0)
    await c.query(
      `INSERT INTO key_clients AS t (key_id, day, kind, value, requests, credits, last_seen_at)
       SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::float8[], $7::bigint[])
       ON CONFLICT (key_id, day, kind, value) DO UPDATE SET requests = t.requests + excluded.requests,
         credits = t.credits + excluded.credits, last_seen_at = greatest(t.last_seen_at, excluded.last_seen_at)`,
      [
        cs.map((n) => n.keyId),
        cs.map((n) => n.day),
        cs.map((n) => n.kind),
        cs.map((n) => n.value),
        cs.map((n) => n.requests),
        cs.map((n) => n.credits),
        cs.map((n) => n.last),
      ],
    );
}

async function touchKeys(c: pg.PoolClient, sums: BatchSums) {
  const used = [...sums.used.entries()].sort(([a], [b]) => cmp(a, b));
  if (used.length === 0) return;
  await c.query(
    `UPDATE keys k SET last_used_at = greatest(coalesce(k.last_used_at, u.last), u.last),
       first_seen_at = least(coalesce(k.first_seen_at, u.first), u.first)
     FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS u(id, first, last) WHERE k.id = u.id`,
    [used.map(([id]) => id), used.map(([, u]) => u.first), used.map(([, u]) => u.last)],
  );
}

/** Detection's cursor: usage stamped before it lands in minutes already judged. */
async function judgedUntil(c: pg.PoolClient): Promise<number | null> {
  const cursor = await c.query<{ evaluated_until: number | string }>(
    `SELECT evaluated_until FROM detector_state WHERE key_id = ''`,
  );
  return cursor.rows[0] ? Number(cursor.rows[0].evaluated_until) : null;
}

/** Usage for minutes detection already judged, per key: judged again on the next run. */
async function noteLate(c: pg.PoolClient, now: number, sums: BatchSums) {
  const ls = [...sums.late.entries()].sort(([a], [b]) => cmp(a, b));
  if (ls.length === 0) return;
  await c.query(
    `INSERT INTO late_usage AS t (key_id, earliest_ts, arrived_at, alert)
     SELECT u.key_id, u.ts, $3, u.alert FROM unnest($1::text[], $2::bigint[], $4::boolean[]) AS u(key_id, ts, alert)
     ON CONFLICT (key_id) DO UPDATE SET earliest_ts = least(t.earliest_ts, excluded.earliest_ts),
       arrived_at = excluded.arrived_at, alert = t.alert OR excluded.alert`,
    [ls.map(([id]) => id), ls.map(([, l]) => l.ts), now, ls.map(([, l]) => l.alert)],
  );
}
