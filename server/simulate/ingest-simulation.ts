/** Loads a simulation into the database through the same code paths as real usage. */
import type { Clock } from '../clock.ts';
import type { Db, Sqlite } from '../db/client.ts';
import { statement } from '../db/statements.ts';
import { createKey, findKey, revokeKey } from '../keys/keys.ts';
import { recordEvents, type UsageEvent } from '../usage/record-events.ts';
import type { LegitChange } from './changes.ts';
import { planSimulation, type SimEvent, type SimOptions, simulateEvents } from './simulate.ts';

export const SIMULATION_SOURCE = 'simulate';
const BATCH = 5000;

export function toUsageEvent(e: SimEvent, source = SIMULATION_SOURCE): UsageEvent {
  return {
    source,
    eventId: e.id,
    key: { by: 'ref', value: e.key },
    ts: e.ts,
    credits: e.credits,
    requests: e.requests,
    status: e.status,
    operation: e.operation,
    sourceIp: e.source_ip,
    userAgent: e.user_agent,
    projectId: e.project_id,
  };
}

export async function ingestSimulation(
  deps: { db: Db; sqlite: Sqlite; clock: Clock; secret: string },
  options: SimOptions,
  actor: string,
): Promise<{
  keys: number;
  accepted: number;
  duplicates: number;
  labels: ReturnType<typeof planSimulation>['labels'];
  /** The legitimate changes staged, by key name. */
  changes: { key: string; type: LegitChange['type']; from: number; description: string }[];
}> {
  const plan = planSimulation(options);
  for (const k of plan.keys) {
    if (!(await findKey(deps.db, k.name))) {
      await createKey(
        deps,
        { name: k.name, environment: k.environment, owner: k.owner, created_at: k.created_at },
        actor,
      );
    }
    if (k.revoked_at !== null) await revokeKey(deps, k.name, { at: k.revoked_at }, actor);
  }
  let accepted = 0;
  let duplicates = 0;
  let batch: UsageEvent[] = [];
  const flush = () => {
    const r = recordEvents(deps, batch);
    accepted += r.accepted;
    duplicates += r.duplicates;
    batch = [];
  };
  for (const e of simulateEvents(options, plan)) {
    batch.push(toUsageEvent(e));
    if (batch.length >= BATCH) flush();
  }
  flush();
  const insert = statement(
    deps.sqlite,
    `INSERT INTO unattributed_spend (ts, until, source, credits, project_id, details, created_at)
     VALUES (?, ?, 'webhook', ?, ?, 'simulated project created outside the gateway', ?)`,
  );
  const known = statement<[string], { n: number }>(
    deps.sqlite,
    'SELECT count(*) AS n FROM unattributed_spend WHERE project_id = ?',
  );
  for (const u of plan.unattributed) {
    if (known.get(u.projectId)!.n === 0) insert.run(u.ts, u.ts, u.credits, u.projectId, deps.clock.now());
  }
  deps.sqlite.pragma('optimize');
  const changes = plan.changes.map((c) => ({
    key: plan.profiles[c.keyIndex]!.name,
    type: c.type,
    from: c.from,
    description: c.description,
  }));
  return { keys: plan.keys.length, accepted, duplicates, labels: plan.labels, changes };
}
