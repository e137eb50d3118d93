/**
 * `keywatch simulate`: realistic gateway-like traffic for a set of keys. Pure and deterministic:
 * the same options give the same events. Events come out in time order, minute by minute.
 */
import { DAY, floorTo, MINUTE } from '../clock.ts';
import { zoneOffset } from '../time-zone.ts';
import { costOf, type OperationName } from './catalog.ts';
import { type LegitChange, planChanges } from './changes.ts';
import { growthFactor, type KeyProfile, profilesFor, shapeAt } from './profiles.ts';
import { createRng, type Rng } from './random.ts';
import { planScenarios, type Scenario, type SimLabel } from './scenarios.ts';

export type SimOptions = {
  seed: number;
  days: number;
  keys: number;
  end: number;
  incidents: boolean;
  /** Legitimate, unlabelled changes (launch, growth, holiday, batch move, CI bursts, upgrade). */
  changes?: boolean;
  /** The zone the keys' teams work in: their daily and weekly shapes follow its clock (default UTC). */
  timeZone?: string;
};

export type SimKey = {
  name: string;
  environment: string;
  owner: string;
  created_at: number;
  revoked_at: number | null;
};

/** One request as the push API takes it. */
export type SimEvent = {
  id: string;
  key: string;
  ts: number;
  credits: number;
  requests: 1;
  operation: OperationName;
  status: number;
  source_ip: string;
  user_agent: string;
  project_id: string | null;
};

export type SimPlan = {
  start: number;
  end: number;
  profiles: KeyProfile[];
  keys: SimKey[];
  scenarios: Scenario[];
  changes: LegitChange[];
  labels: SimLabel[];
  /** Account spend no key explains (provider projects created outside the gateway). */
  unattributed: { ts: number; credits: number; projectId: string }[];
};

export function planSimulation(options: SimOptions): SimPlan {
  const end = floorTo(options.end, MINUTE);
  const start = end - options.days * DAY;
  const profiles = profilesFor(options.keys);
  const scenarios = options.incidents ? planScenarios(profiles, start, end) : [];
  const keys = profiles.map((p, i) => ({
    name: p.name,
    environment: p.environment,
    owner: p.owner,
    created_at: Math.min(start, floorTo(end - p.ageDays * DAY, MINUTE)),
    revoked_at: scenarios.find((s) => s.keyIndex === i && s.revokedAt !== undefined)?.revokedAt ?? null,
  }));
  const unattributed = scenarios.flatMap((s) => s.unattributed ?? []);
  const changes = options.changes ? planChanges(profiles, start, end) : [];
  return {
    start,
    end,
    profiles,
    keys,
    scenarios,
    changes,
    labels: scenarios.map((s) => s.label),
    unattributed,
  };
}

const ERROR_STATUSES = [
  [422, 5],
  [429, 3],
  [400, 1],
  [402, 1],
] as const;

export function* simulateEvents(options: SimOptions, plan = planSimulation(options)): Generator<SimEvent> {
  const rng = createRng(options.seed);
  let counter = 0;
  const byKey = plan.profiles.map((_, i) => plan.scenarios.filter((s) => s.keyIndex === i));
  const changesOf = plan.profiles.map((_, i) => plan.changes.filter((c) => c.keyIndex === i));
  // Shapes are written in wall-clock hours: shifting by the zone's offset puts them on its clock.
  const zone = options.timeZone ?? 'UTC';
  const local = (ts: number) => ts + zoneOffset(zone, ts);
  const orphans = plan.scenarios.filter((s) => s.keyIndex < 0 && s.mix);

  const make = (
    key: string,
    ts: number,
    op: OperationName,
    ip: string,
    agent: string,
    failing: boolean,
    forcedStatus?: number,
  ): SimEvent => {
    const status = forcedStatus ?? (failing ? rng.weighted(ERROR_STATUSES) : 200);
    return {
      id: `sim-${options.seed}-${(counter++).toString(36)}`,
      key,
      ts: ts + Math.floor(rng.next() * MINUTE),
      credits: status === 200 ? costOf(op, rng) : 0,
      requests: 1,
      operation: op,
      status,
      source_ip: ip,
      user_agent: agent,
      project_id: status === 200 ? projectId(rng) : null,
    };
  };

  for (let ts = plan.start; ts < plan.end; ts += MINUTE) {
    const batch: SimEvent[] = [];
    plan.profiles.forEach((p, i) => {
      const scenarios = byKey[i]!;
      const retired = p.stopsAfterDays !== undefined && ts - plan.start >= p.stopsAfterDays * DAY;
      const changes = changesOf[i]!;
      const shift = changes.reduce((h, c) => h + (c.shiftAt?.(ts) ?? 0), 0);
      const factor = changes.reduce((f, c) => f * c.factor(ts), 1);
      const agent = changes.map((c) => c.agentAt?.(ts)).find(Boolean);
      const normal =
        (p.peakPerHour / 60) *
        shapeAt(p.shape, local(ts) - shift) *
        growthFactor(p, ts - plan.start) *
        factor;
      const silenced = retired || scenarios.some((s) => s.silences?.(ts));
      if (!silenced) {
        for (let n = rng.poisson(normal); n > 0; n--) {
          batch.push(
            make(
              p.name,
              ts,
              rng.weighted(p.mix),
              rng.pick(p.ips),
              agent ?? rng.pick(p.agents),
              rng.next() < p.errorRate,
            ),
          );
        }
      }
      for (const s of scenarios) {
        for (let n = rng.poisson(s.extraPerMinute(ts, normal)); n > 0; n--) {
          const op = rng.weighted(s.mix ?? p.mix);
          const ip = s.ip ?? rng.pick(p.ips);
          batch.push(make(p.name, ts, op, ip, s.agent ?? rng.pick(p.agents), rng.next() < 0.01, s.status));
        }
      }
    });
    // Traffic on keys nobody registered (a leaked key used through the gateway).
    for (const s of orphans) {
      for (let n = rng.poisson(s.extraPerMinute(ts, 0)); n > 0; n--) {
        batch.push(make(s.label.key, ts, rng.weighted(s.mix!), s.ip!, s.agent!, false, s.status));
      }
    }
    batch.sort((a, b) => a.ts - b.ts);
    yield* batch;
  }
}

/** A cuid-like project id, as Magic Hour returns from create endpoints. */
function projectId(rng: Rng): string {
  let s = 'c';
  for (let i = 0; i < 24; i++) s += '0123456789abcdefghijklmnopqrstuvwxyz'[Math.floor(rng.next() * 36)];
  return s;
}
