/**
 * Labelled incidents the simulator can inject, each the way it looks in real traffic:
 * a stolen key burning video credits, a slow leak, off-hours use, a dormant key waking,
 * use after revocation, a burst of 401s, an unregistered key, a new source, an operation-mix
 * shift and spend no key explains. Times are placed relative to the end of the window.
 */
import { DAY, HOUR, MINUTE } from '../clock.ts';
import { DETECTED_KINDS } from '../incidents/kinds.ts';
import { ATTACKER_AGENTS, type OperationName } from './catalog.ts';
import type { KeyProfile } from './profiles.ts';

/** The simulator can stage every security kind. */
export const SIM_INCIDENT_KINDS = DETECTED_KINDS;
export type SimIncidentKind = (typeof SIM_INCIDENT_KINDS)[number];

export type SimLabel = {
  kind: SimIncidentKind;
  key: string;
  start: number;
  end: number;
  description: string;
};

/** How a scenario changes one key's traffic. Rates are requests per minute. */
export type Scenario = {
  label: SimLabel;
  /** -1: traffic on a key that is not registered (label.key names it). */
  keyIndex: number;
  /** Forces the HTTP status of the extra requests (401 for a guessed or stale secret). */
  status?: number;
  unattributed?: { ts: number; credits: number; projectId: string }[];
  /** Normal traffic is absent while this holds (dormancy, after revocation). */
  silences?: (ts: number) => boolean;
  extraPerMinute: (ts: number, normalPerMinute: number) => number;
  mix?: readonly (readonly [OperationName, number])[];
  ip?: string;
  agent?: string;
  revokedAt?: number;
};

const within = (label: SimLabel, ts: number) => ts >= label.start && ts < label.end;

/** Start of the UTC day `daysBeforeEnd` days before `end`, plus `hour` hours. */
const at = (end: number, daysBeforeEnd: number, hour: number) =>
  Math.floor(end / DAY) * DAY - daysBeforeEnd * DAY + hour * HOUR;

/** Picks the first key (after `from`) whose profile suits the scenario, wrapping around. */
function keyFor(profiles: readonly KeyProfile[], suits: (p: KeyProfile) => boolean, from = 0): number {
  for (let i = 0; i < profiles.length; i++) {
    const j = (from + i) % profiles.length;
    if (suits(profiles[j]!)) return j;
  }
  return from % profiles.length;
}

export function planScenarios(profiles: readonly KeyProfile[], start: number, end: number): Scenario[] {
  const days = (end - start) / DAY;
  if (days < 14) return [];
  const name = (i: number) => profiles[i]!.name;
  const scenarios: Scenario[] = [];

  const spikeKey = keyFor(profiles, (p) => p.shape === 'evening');
  const spike: SimLabel = {
    kind: 'credit_spike',
    key: name(spikeKey),
    start: at(end, 5, 14) + 7 * MINUTE,
    end: at(end, 5, 15) + 37 * MINUTE,
    description:
      'Leaked key: video-to-video renders from an unknown host at ~20x normal spend for 90 minutes',
  };
  scenarios.push({
    label: spike,
    keyIndex: spikeKey,
    extraPerMinute: (ts) => (within(spike, ts) ? 1.5 : 0),
    mix: [
      ['video-to-video', 70],
      ['face-swap', 30],
    ],
    ip: '198.51.100.201',
    agent: ATTACKER_AGENTS[0],
  });

  const leakKey = keyFor(profiles, (p) => p.shape === 'evening', spikeKey + 1);
  const leak: SimLabel = {
    kind: 'sustained_elevation',
    key: name(leakKey),
    start: at(end, 12, 0),
    end: at(end, 6, 0),
    description: 'Slow leak: a copy of the key in a third-party app adds ~50% to its spend for six days',
  };
  scenarios.push({
    label: leak,
    keyIndex: leakKey,
    extraPerMinute: (ts, normal) => (within(leak, ts) ? 0.5 * normal : 0),
    ip: '198.51.100.150',
  });

  const offKey = keyFor(profiles, (p) => p.shape === 'business');
  const off: SimLabel = {
    kind: 'off_hours',
    key: name(offKey),
    start: at(end, 3, 2) + 13 * MINUTE,
    end: at(end, 3, 3) + 43 * MINUTE,
    description: 'Image generation at 02:00 UTC on a key that only ever works office hours',
  };
  scenarios.push({
    label: off,
    keyIndex: offKey,
    extraPerMinute: (ts) => (within(off, ts) ? 0.3 : 0),
    mix: [
      ['ai-image-generator', 70],
      ['ai-headshot-generator', 30],
    ],
    ip: '198.51.100.177',
    agent: ATTACKER_AGENTS[1],
  });

  const dormantKey = keyFor(profiles, (p) => p.shape === 'sparse' && p.stopsAfterDays === undefined);
  const dormantFrom = at(end, 16, 0);
  const wake: SimLabel = {
    kind: 'dormant_wake',
    key: name(dormantKey),
    start: at(end, 2, 10) + 21 * MINUTE,
    end: at(end, 2, 10) + 51 * MINUTE,
    description: 'A development key unused for two weeks starts generating images again',
  };
  scenarios.push({
    label: wake,
    keyIndex: dormantKey,
    silences: (ts) => ts >= dormantFrom && ts < wake.start,
    extraPerMinute: (ts) => (within(wake, ts) ? 0.4 : 0),
    ip: '198.51.100.188',
  });

  const revokedKey = keyFor(profiles, (p) => p.environment === 'staging', 0);
  const revokedAt = at(end, 8, 12);
  const reuse: SimLabel = {
    kind: 'revoked_use',
    key: name(revokedKey),
    start: at(end, 4, 16) + 5 * MINUTE,
    end: at(end, 4, 16) + 25 * MINUTE,
    description: 'A revoked staging key is used again from an unknown host',
  };
  scenarios.push({
    label: reuse,
    keyIndex: revokedKey,
    silences: (ts) => ts >= revokedAt,
    extraPerMinute: (ts) => (within(reuse, ts) ? 0.5 : 0),
    ip: '198.51.100.199',
    agent: ATTACKER_AGENTS[2],
    revokedAt,
  });
  // Not an attack but billing's news: a production app breaks and its key goes quiet for hours.
  const brokenKey = keyFor(profiles, (p) => p.environment === 'production' && p.shape === 'evening', 1);
  const broken: SimLabel = {
    kind: 'usage_drop',
    key: name(brokenKey),
    start: at(end, 7, 15),
    end: at(end, 7, 21),
    description: 'A production app breaks: its key sends nothing for six evening hours',
  };
  scenarios.push({
    label: broken,
    keyIndex: brokenKey,
    silences: (ts) => within(broken, ts),
    extraPerMinute: () => 0,
  });
  scenarios.push(...planSourceScenarios(profiles, end));
  return scenarios;
}

/** Scenarios about who and what: 401 bursts, an unregistered key, new sources, costlier operations. */
function planSourceScenarios(profiles: readonly KeyProfile[], end: number): Scenario[] {
  const name = (i: number) => profiles[i]!.name;
  const out: Scenario[] = [];
  const authKey = keyFor(profiles, (p) => p.shape === 'evening');
  const auth: SimLabel = {
    kind: 'auth_failures',
    key: name(authKey),
    start: at(end, 9, 11) + 3 * MINUTE,
    end: at(end, 9, 11) + 15 * MINUTE,
    description: 'Someone tries a stale copy of the key: a burst of 401s from an unknown host',
  };
  out.push({
    label: auth,
    keyIndex: authKey,
    extraPerMinute: (ts) => (within(auth, ts) ? 4 : 0),
    status: 401,
    ip: '198.51.100.220',
    agent: ATTACKER_AGENTS[1],
  });
  const orphan: SimLabel = {
    kind: 'discovered_key',
    key: 'unregistered-7f3a',
    start: at(end, 4, 20) + 11 * MINUTE,
    end: at(end, 4, 20) + 56 * MINUTE,
    description: 'A key nobody registered in Keywatch spends credits through the gateway',
  };
  out.push({
    label: orphan,
    keyIndex: -1,
    extraPerMinute: (ts) => (within(orphan, ts) ? 0.5 : 0),
    mix: [
      ['ai-image-generator', 60],
      ['image-to-video', 40],
    ],
    ip: '198.51.100.230',
    agent: ATTACKER_AGENTS[0],
  });
  const sourceKey = keyFor(profiles, (p) => p.shape === 'steady');
  const source: SimLabel = {
    kind: 'new_source',
    key: name(sourceKey),
    start: at(end, 6, 9) + 17 * MINUTE,
    end: at(end, 6, 11) + 17 * MINUTE,
    description: 'The key is used from a new network and client at its usual rate and mix',
  };
  out.push({
    label: source,
    keyIndex: sourceKey,
    extraPerMinute: (ts) => (within(source, ts) ? 0.1 : 0),
    ip: '198.51.100.240',
    agent: ATTACKER_AGENTS[2],
  });
  const mixKey = keyFor(profiles, (p) => p.shape === 'steady');
  const mix: SimLabel = {
    kind: 'operation_mix',
    key: name(mixKey),
    start: at(end, 1, 13) + 29 * MINUTE,
    end: at(end, 1, 16) + 29 * MINUTE,
    description: 'Same request rate, but every request now renders video (credits per request x40)',
  };
  out.push({
    label: mix,
    keyIndex: mixKey,
    silences: (ts) => within(mix, ts),
    extraPerMinute: (ts, normal) => (within(mix, ts) ? normal : 0),
    mix: [
      ['text-to-video', 50],
      ['lip-sync', 50],
    ],
  });
  const spendStart = at(end, 7, 15) + 5 * MINUTE;
  const spend: SimLabel = {
    kind: 'unattributed_spend',
    key: '(account)',
    start: spendStart,
    end: spendStart + 40 * MINUTE,
    description: 'Projects created outside the gateway by a key Keywatch does not know',
  };
  out.push({
    label: spend,
    keyIndex: -1,
    extraPerMinute: () => 0,
    unattributed: [0, 9, 22, 38].map((m, i) => ({
      ts: spendStart + m * MINUTE,
      credits: 480,
      projectId: `csim${end.toString(36)}${i}`,
    })),
  });
  return out;
}
