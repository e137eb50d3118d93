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
  usage_drop: 'info',
  client_exposure: 'warning',
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

const plural = (n: number, unit: string) => `${n0(n)} ${unit}${Math.round(n) === 1 ? '' : 's'}`;
const n0 = (x: number) => Math.round(x).toLocaleString('en-US');
const list = (v: unknown) => (Array.isArray(v) ? v.join(', ') : String(v ?? ''));

/** "35 times", "1.4 times": how far above usual, or null when usual is about nothing. */
function times(observed: number, expected: number): string | null {
  if (expected < 0.5) return null;
  const r = observed / expected;
  return `${r.toLocaleString('en-US', { maximumFractionDigits: r < 10 ? 1 : 0 })} times`;
}

/** "about 1,200 is usual" or "almost none is usual": never "about 0.0". */
const usual = (expected: number, noun: string) =>
  expected < 0.5 ? `almost no ${noun} are usual` : `about ${n0(expected)} ${noun} are usual`;

/** "3 minutes", "5 hours", "2 days": a plain relative span. */
function span(ms: number): string {
  const minutes = Math.max(1, Math.round(ms / 60_000));
  if (minutes < 120) return plural(minutes, 'minute');
  const hours = Math.round(minutes / 60);
  return hours < 48 ? plural(hours, 'hour') : plural(Math.round(hours / 24), 'day');
}

/** "03:10 on Saturday (Europe/Paris)": a time of day in the configured zone. Intl is pure. */
function localTime(ms: number, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    weekday: 'long',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(ms));
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('hour')}:${part('minute')} on ${part('weekday')} (${timeZone})`;
}

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
  /** The zone times of day are told in (KEYWATCH_TZ); UTC when not given. */
  timeZone?: string;
};

/** One plain sentence with numbers: no statistics words, no raw timestamps. */
export function summarize(e: Explainable): string {
  const key = e.who ?? (e.key ? `Key "${e.key}"` : 'The account');
  // A network of unknown keys is plural: "Unknown keys from ... are".
  const is = e.who ? 'are' : 'is';
  const f = e.facts ?? {};
  const elapsed = e.lastSeenAt - e.startedAt;
  switch (e.kind) {
    case 'credit_spike': {
      const minutes = Number(f.minutes ?? Math.round(elapsed / 60_000));
      const x = times(e.observed, e.expected);
      const vs = x
        ? `${x} the usual ${n0(e.expected)} for this hour of the week`
        : 'where almost none are usual at this hour of the week';
      const requests =
        f.requests === undefined
          ? ''
          : ` It made ${plural(Number(f.requests), 'request')}; ${usual(Number(f.expected_requests ?? 0), 'requests')}.`;
      return `${key} spent ${n0(e.observed)} credits in ${plural(minutes, 'minute')}, ${vs}.${requests}`;
    }
    case 'sustained_elevation': {
      const ratio = Number(f.ratio ?? (e.expected > 0 ? e.observed / e.expected : 0));
      const hours = Number(f.hours ?? Math.round(elapsed / 3_600_000));
      const level =
        ratio > 0
          ? `${ratio.toLocaleString('en-US', { maximumFractionDigits: 1 })} times its usual level`
          : 'above its usual level';
      return `${key} has run at ${level} for ${plural(hours, 'hour')}: ${n0(e.impact)} credits more than usual.`;
    }
    case 'off_hours':
      return `${key} was used at ${localTime(e.startedAt, String(f.time_zone ?? e.timeZone ?? 'UTC'))}, an hour of the week it has never been used in (${plural(e.observed, 'request')}, ${plural(e.impact, 'credit')}).`;
    case 'dormant_wake':
      return `${key} was used again after ${f.idle_days === undefined ? 'a week or more' : plural(Number(f.idle_days), 'day')} without use (${plural(e.impact, 'credit')} so far).`;
    case 'revoked_use': {
      const after =
        typeof f.revoked_at === 'number'
          ? ` ${span(e.startedAt - f.revoked_at)} after it was revoked`
          : ' after it was revoked';
      return `${key} was used${after}: ${plural(e.observed, 'request')} and ${plural(e.impact, 'credit')} so far.`;
    }
    case 'auth_failures':
      return `${key} had ${plural(e.observed, 'request')} rejected for a wrong or revoked key in a short burst; ${usual(e.expected, 'rejections')}.`;
    case 'discovered_key':
      return `${key} ${is} not registered in Keywatch but ${is} spending credits (${n0(e.impact)} so far).`;
    case 'new_source': {
      const sources = [list(f.ips), list(f.user_agents)].filter(Boolean).join('; ');
      return `${key} ${is} being used from a source it never used before${sources ? ` (${sources})` : ''}: ${plural(e.observed, 'request')} from it so far.`;
    }
    case 'operation_mix': {
      if (list(f.new_operations))
        return `${key} ran an expensive operation it never used before (${list(f.new_operations)}): ${plural(e.observed, 'credit')} in the last hour.`;
      const cpr = Number(f.credits_per_request ?? 0);
      const per =
        cpr > 0 && Number(f.usual_credits_per_request ?? 0) >= 0.1
          ? ` (${n0(cpr)} credits per request, about ${Number(f.usual_credits_per_request ?? 0).toLocaleString('en-US', { maximumFractionDigits: 1 })} usual)`
          : '';
      return `${key} spent ${plural(e.observed, 'credit')} in the last hour at a normal number of requests; ${usual(e.expected, 'credits')} for that many${per}.`;
    }
    case 'usage_drop': {
      const hours = plural(Number(f.hours ?? Math.round(elapsed / 3_600_000)), 'hour');
      return e.observed < 0.05 * e.expected
        ? `${key} stopped: almost no usage for ${hours}, when ${n0(e.expected)} credits were usual.`
        : `${key} ${is} using far less than usual: ${n0(e.observed)} credits over ${hours}, against ${n0(e.expected)} usual.`;
    }
    case 'client_exposure': {
      const parts: string[] = [];
      if (Number(f.browser_requests ?? 0) > 0)
        parts.push(`${plural(Number(f.browser_requests), 'request')} from browsers (${list(f.browsers)})`);
      if (Number(f.origin_requests ?? 0) > 0) {
        // "null" is what a sandboxed frame or a local file sends as its origin.
        const origins = (Array.isArray(f.origins) ? f.origins : [String(f.origins ?? '')]).map((o) =>
          o === 'null' ? 'a sandboxed page or local file' : o,
        );
        parts.push(
          `${plural(Number(f.origin_requests), 'request')} sent by a web page (Origin ${origins.join(', ')})`,
        );
      }
      if (parts.length === 0 && f.networks !== undefined)
        parts.push(
          `use from ${plural(Number(f.networks), 'unrelated network')} in ${plural(Number(f.window_hours ?? 24), 'hour')}, where ${n0(Number(f.usual_networks ?? 0))} is usual`,
        );
      if (parts.length === 0) parts.push(`${plural(e.observed, 'request')} that look like client-side use`);
      return `${key} looks exposed in client-side code: ${parts.join('; ')}.`;
    }
    case 'unattributed_spend':
      return `${n0(e.observed)} credits were spent on the account that no known key explains.`;
  }
}
