/**
 * Plain words for a finding: severity from kind and credit impact, one sentence, and what to do.
 * Pure: the key name and numbers come in, text goes out.
 */
import { maxSeverity, type Severity } from '../../incidents/kinds.ts';
import type { DetectorKind, Params } from './params.ts';

const MIN_SEVERITY: Record<DetectorKind, Severity> = {
  credit_spike: 'warning',
  sustained_elevation: 'warning',
  off_hours: 'warning',
  dormant_wake: 'warning',
  revoked_use: 'critical',
  auth_failures: 'warning',
  discovered_key: 'warning',
  new_source: 'info',
  operation_mix: 'warning',
  unattributed_spend: 'warning',
};

export function severityFor(kind: DetectorKind, impactCredits: number, params: Params): Severity {
  const byImpact: Severity =
    impactCredits >= params.baseline.critical_credits
      ? 'critical'
      : impactCredits >= params.baseline.warning_credits
        ? 'warning'
        : 'info';
  return maxSeverity(byImpact, MIN_SEVERITY[kind]);
}

const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
const n0 = (x: number) => Math.round(x).toLocaleString('en-US');
const list = (v: unknown) => (Array.isArray(v) ? v.join(', ') : String(v ?? ''));

export type Explainable = {
  kind: DetectorKind;
  key: string | null;
  /** Who the sentence is about when it is not one key or the account (unknown tokens of a network). */
  who?: string;
  observed: number;
  expected: number;
  impact: number;
  startedAt: number;
  lastSeenAt: number;
  facts?: Record<string, string | number | string[]> | undefined;
};

export function summarize(e: Explainable): string {
  const key = e.who ?? (e.key ? `Key "${e.key}"` : 'The account');
  const f = e.facts ?? {};
  const minutes = Math.max(1, Math.round((e.lastSeenAt - e.startedAt) / 60_000));
  const ratio = e.expected > 0 ? `${(e.observed / e.expected).toFixed(1)}x` : 'far above';
  switch (e.kind) {
    case 'credit_spike':
      return `${key} spent ${n0(e.observed)} credits in ${plural(Number(f.minutes ?? minutes), 'minute')}, ${ratio} the ${n0(e.expected)} expected for this hour (${f.requests ?? '?'} requests vs ${f.expected_requests ?? '?'}).`;
    case 'sustained_elevation':
      return `${key} has run at ${f.ratio ?? ratio}x its usual level for ${plural(Number(f.hours ?? Math.round(minutes / 60)), 'hour')}: ${n0(e.impact)} credits more than expected.`;
    case 'off_hours':
      return `${key} was used at ${String(f.hour ?? '?').padStart(2, '0')}:00 UTC on a ${f.weekend ? 'weekend' : 'weekday'}, an hour it has never worked (${n0(e.observed)} requests, ${n0(e.impact)} credits).`;
    case 'dormant_wake':
      return `${key} was used again after ${f.idle_days ?? '7+'} days without use (${n0(e.impact)} credits so far).`;
    case 'revoked_use':
      return `${key} was used after it was revoked: ${n0(e.observed)} requests and ${n0(e.impact)} credits since ${new Date(e.startedAt).toISOString()}.`;
    case 'auth_failures':
      return `${key} received ${n0(e.observed)} authentication failures (401) in a short burst; about ${e.expected.toFixed(1)} are usual.`;
    case 'discovered_key':
      return `${key} is not registered in Keywatch but is spending credits (${n0(e.impact)} so far).`;
    case 'new_source':
      return `${key} is being used from a source it never used before: ${[list(f.ips), list(f.user_agents)].filter(Boolean).join('; ')}.`;
    case 'operation_mix':
      return list(f.new_operations)
        ? `${key} ran an expensive operation it never used before (${list(f.new_operations)}), ${n0(e.observed)} credits in the last hour.`
        : `${key} spends ${f.credits_per_request} credits per request, far above its usual ${f.usual_credits_per_request}, at a normal request count.`;
    case 'unattributed_spend':
      return `${n0(e.observed)} credits were spent on the account that no known key explains.`;
  }
}
