/** Loads a simulation into the database through the same code paths as real usage. */
import { eq } from 'drizzle-orm';
import type { Clock } from '../clock.ts';
import type { Db } from '../db/client.ts';
import { optimizeAfterBulkLoad } from '../db/maintenance.ts';
import { unattributedSpend } from '../db/schema/index.ts';
import { createKey, findKey, revokeKey } from '../keys/keys.ts';
import type { UsageEvent } from '../usage/record-events.ts';
import { usageRecorderFor } from '../usage/recorder.ts';
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
  deps: { db: Db; clock: Clock; secret: string },
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
  const recorder = usageRecorderFor(deps.db, deps.clock);
  let accepted = 0;
  let duplicates = 0;
  let batch: UsageEvent[] = [];
  const flush = async () => {
    const r = await recorder.record(batch);
    accepted += r.accepted;
    duplicates += r.duplicates;
    batch = [];
  };
  for (const e of simulateEvents(options, plan)) {
    batch.push(toUsageEvent(e));
    if (batch.length >= BATCH) await flush();
  }
  await flush();
  for (const u of plan.unattributed) {
    const known = await deps.db
      .select({ id: unattributedSpend.id })
      .from(unattributedSpend)
      .where(eq(unattributedSpend.projectId, u.projectId))
      .limit(1);
    if (known.length > 0) continue;
    await deps.db.insert(unattributedSpend).values({
      ts: u.ts,
      until: u.ts,
      source: 'webhook',
      credits: u.credits,
      projectId: u.projectId,
      details: 'simulated project created outside the gateway',
      createdAt: deps.clock.now(),
    });
  }
  await optimizeAfterBulkLoad(deps.db);
  const changes = plan.changes.map((c) => ({
    key: plan.profiles[c.keyIndex]!.name,
    type: c.type,
    from: c.from,
    description: c.description,
  }));
  return { keys: plan.keys.length, accepted, duplicates, labels: plan.labels, changes };
}
