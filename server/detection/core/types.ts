/** What goes into a detector (one closed bucket of one key) and what comes out (a finding). */
import type { Severity } from '../../incidents/kinds.ts';
import type { WindowSums } from './detectors/credit-spike.ts';
import type { DetectorKind, RuleSet } from './params.ts';
import type { KeyState } from './state.ts';

export type OperationUse = { op: string; requests: number; credits: number };

export type Bucket = {
  /** Bucket start, epoch ms. */
  ts: number;
  requests: number;
  credits: number;
  authFailures: number;
  ops: OperationUse[];
  /** Requests per source IP and per user agent in this bucket, when the source reports them. */
  ips?: Record<string, number>;
  uas?: Record<string, number>;
  /** Requests per client origin (Origin/Referer reduced to scheme://host[:port]), when any carried one. */
  origins?: Record<string, number>;
};

export type KeyContext = {
  status: 'active' | 'revoked' | 'discovered';
  revokedAt: number | null;
  /** The key is being rotated away: its usage is expected to fade, so a drop is no news. */
  rotating?: boolean;
  rules: RuleSet;
  /** How much larger a deviation must be for `kind` now (desensitize adjustments); 1 = as configured. */
  factor(kind: DetectorKind): number;
  /**
   * Calibrate the spike test's tail on every bucket, flagged ones included. Live keys leave it off
   * (an attacker must not teach the detector that attacks are normal); a bare series with no
   * adversary turns it on, since excluding the flagged buckets censors the very tail being
   * estimated and makes every recurring burst look new.
   */
  calibrateOnAll?: boolean;
  /** The zone the key's team works in (KEYWATCH_TZ or the key's own); hours are judged in it. Default UTC. */
  timeZone?: string;
};

export type Unit = 'credits' | 'requests' | 'auth_failures' | 'networks';

export type Finding = {
  kind: DetectorKind;
  /** Start of the bucket that produced it. */
  at: number;
  window: { from: number; to: number };
  unit: Unit;
  observed: number;
  expected: number;
  low: number;
  high: number;
  method: string;
  /** In [0, 1]; 0.5 is the decision threshold. */
  score: number;
  /** Excess credits in this bucket (added to an open incident) and in the whole window (on open). */
  bucketImpact: number;
  windowImpact: number;
  /** Kind-specific facts for the sentence: new values, operation names... */
  facts?: Record<string, string | number | string[]>;
  /** A floor on the signal's severity whatever its credit impact (a key used from a web page). */
  minSeverity?: Severity;
};

/** Everything a detector reads: the state (ring already holds this bucket), the bucket, the context. */
export type Evaluation = {
  state: KeyState;
  bucket: Bucket;
  ctx: KeyContext;
  /** Expected requests and credits in this bucket. */
  expReq: number;
  expCred: number;
  warm: boolean;
  /** The spike test's ring sums when the caller has them already (fastForward). */
  sums?: WindowSums;
};

export type Detector = (e: Evaluation) => Finding | null;
