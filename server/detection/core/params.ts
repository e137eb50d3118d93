/**
 * Tunables of every detector, with defaults chosen from first principles (false-alarm rate per
 * test, minimum material spend), never fitted to an evaluation set. Rules may override them
 * globally or per key (server/detection/rules.ts); `baseline` holds the shared model settings.
 */
import { DETECTED_KINDS } from '../../incidents/kinds.ts';

export const DETECTOR_KINDS = DETECTED_KINDS;
export type DetectorKind = (typeof DETECTOR_KINDS)[number];
export const RULE_KINDS = ['baseline', ...DETECTOR_KINDS] as const;
export type RuleKind = (typeof RULE_KINDS)[number];

export const DEFAULT_PARAMS = {
  baseline: {
    warmup_days: 7,
    memory_weeks: 3,
    adapt_hours: 24,
    quiet_minutes: 60,
    warning_credits: 500,
    critical_credits: 5000,
    page_floor_credits: 250,
    level_hours: 48,
  },
  credit_spike: { alpha: 1e-6, floor_credits: 250 },
  sustained_elevation: { ratio: 1.4, threshold: 10, floor_credits: 500 },
  off_hours: { min_requests: 2, neighbor_hours: 1 },
  dormant_wake: { dormant_days: 7 },
  revoked_use: {},
  auth_failures: { min_failures: 10, window_minutes: 10, alpha: 1e-6 },
  discovered_key: {},
  new_source: { max_sources: 20 },
  operation_mix: { ratio: 3, alpha: 1e-6, floor_credits: 250 },
  unattributed_spend: { floor_credits: 200, window_minutes: 60 },
  client_exposure: {
    min_browser_requests: 1,
    max_networks: 20,
    usual_ratio: 3,
    window_hours: 24,
    repeat_hours: 24,
  },
  usage_drop: { ratio: 0.5, threshold: 10, min_hourly_requests: 10, floor_credits: 250 },
} satisfies Record<RuleKind, Record<string, number>>;

export type Params = { [K in RuleKind]: { [P in keyof (typeof DEFAULT_PARAMS)[K]]: number } };
export type Enabled = Record<DetectorKind, boolean>;
export type RuleSet = { params: Params; enabled: Enabled };

export const PARAM_DOCS: Record<string, string> = {
  'baseline.warmup_days': 'days of history a key needs before statistical detectors speak',
  'baseline.memory_weeks': 'how many visits of an hour-of-week cell the seasonal profile remembers',
  'baseline.adapt_hours':
    'a level shift lasting this long becomes the new normal (one incident, not days of them)',
  'baseline.quiet_minutes': 'an incident resolves itself after this long without a finding',
  'baseline.warning_credits': 'credit impact from which a finding is at least a warning',
  'baseline.critical_credits': 'credit impact from which a finding is critical',
  'baseline.level_hours':
    'hours over which the key\u2019s level follows steady growth or decline (0: off); a leak is caught in hours, long before',
  'baseline.page_floor_credits':
    'credit impact an incident needs before it pages anyone (revoked use, 401 bursts, unknown keys and keys exposed in client-side code page regardless); smaller ones go to the digest',
  'credit_spike.alpha':
    'p-value below which a window of requests or spend is a spike (per window, Bonferroni)',
  'credit_spike.floor_credits': 'excess credits a window must reach before it can page anyone',
  'sustained_elevation.ratio': 'the relative elevation the CUSUM is tuned to (1.4 = +40%)',
  'sustained_elevation.threshold': 'CUSUM log-likelihood-ratio decision threshold (nats)',
  'sustained_elevation.floor_credits': 'excess credits accumulated before it fires',
  'off_hours.min_requests': 'requests in the last hour in a never-used hour before it fires',
  'off_hours.neighbor_hours': 'hours either side of a used hour that count as used',
  'dormant_wake.dormant_days': 'days without use after which any use is a wake-up',
  'auth_failures.min_failures': '401s in the window before it fires',
  'auth_failures.window_minutes': 'window for counting 401s',
  'auth_failures.alpha': 'p-value against the key\u2019s own 401 rate',
  'new_source.max_sources': 'keys seen from more IPs / agents than this have no established set',
  'operation_mix.ratio': 'credits per request this many times the usual at a normal request count',
  'operation_mix.alpha': 'p-value for the spend given the request count',
  'usage_drop.ratio': 'the fall the downward CUSUM is tuned to (0.5 = usage halves)',
  'usage_drop.threshold': 'CUSUM log-likelihood-ratio decision threshold (nats)',
  'usage_drop.min_hourly_requests': 'hours expected to bring fewer requests than this are not judged',
  'usage_drop.floor_credits': 'credits missing against expected before it fires',
  'operation_mix.floor_credits': 'excess credits before it fires',
  'client_exposure.min_browser_requests':
    'requests with a browser user agent in a minute before the key counts as used from client-side code',
  'client_exposure.max_networks': 'distinct networks (IPv4 /24, IPv6 /64) in the window that count as many',
  'client_exposure.usual_ratio':
    'many networks must also be this many times the key\u2019s usual count (a fleet is its own normal)',
  'client_exposure.window_hours': 'sliding window for counting networks',
  'client_exposure.repeat_hours':
    'the same evidence (browser, origin, many networks) is reported again only after this long',
  'unattributed_spend.floor_credits': 'unattributed credits in the window before it fires',
  'unattributed_spend.window_minutes': 'window for summing unattributed spend',
};

export function defaultRuleSet(): RuleSet {
  const params = structuredClone(DEFAULT_PARAMS) as Params;
  const enabled = Object.fromEntries(DETECTOR_KINDS.map((k) => [k, true])) as Enabled;
  return { params, enabled };
}

/** Applies overrides (unknown names ignored; callers validate at the edge). */
export function mergeRuleSet(
  base: RuleSet,
  kind: RuleKind,
  override: { enabled?: boolean; params?: Record<string, number> },
): RuleSet {
  const next = structuredClone(base);
  if (override.enabled !== undefined && kind !== 'baseline') next.enabled[kind] = override.enabled;
  const target = next.params[kind] as Record<string, number>;
  for (const [name, value] of Object.entries(override.params ?? {})) {
    if (name in target && Number.isFinite(value)) target[name] = value;
  }
  return next;
}

/** Kinds that cost no credits but page regardless of the credit floor. */
export const FLOOR_EXEMPT: ReadonlySet<DetectorKind> = new Set([
  'revoked_use',
  'auth_failures',
  'discovered_key',
  // A key in a web page costs nothing yet, but anyone can copy it: that is news now.
  'client_exposure',
]);
