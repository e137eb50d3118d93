/**
 * new_source: a new source IP network (IPv4 /24, IPv6 /48) or a new client (user agent without its
 * version) on a key whose set of sources is established: past warm-up and small enough to mean
 * something (`max_sources`). A source stays "new" for the quiet period so the episode covers it.
 */
import type { Detector } from '../types.ts';

/** The network an IP belongs to, so a server moving within its subnet is not a new source. */
export function networkOf(ip: string): string {
  if (ip.includes(':')) return `${ip.split(':').slice(0, 3).join(':')}::/48`;
  const parts = ip.split('.');
  return parts.length === 4 ? `${parts.slice(0, 3).join('.')}.0/24` : ip;
}

/** A user agent without versions, so an SDK upgrade is not a new client. */
export function clientOf(ua: string): string {
  return (
    ua
      .replace(/\/[\w.+-]*/g, '')
      .trim()
      .toLowerCase() || ua
  );
}

function freshValues(
  seen: Record<string, number>,
  values: Record<string, number> | undefined,
  normalize: (v: string) => string,
  since: number,
): string[] {
  const out = new Set<string>();
  for (const v of Object.keys(values ?? {})) {
    const first = seen[normalize(v)];
    if (first === undefined || first >= since) out.add(v);
  }
  return [...out];
}

export const detectNewSource: Detector = (e) => {
  const { state, bucket, ctx } = e;
  if (!e.warm || bucket.requests <= 0 || state.firstUse === null) return null;
  const max = ctx.rules.params.new_source.max_sources / ctx.factor('new_source');
  const ipCount = Object.keys(state.ips).length;
  const uaCount = Object.keys(state.uas).length;
  // "New" means first seen after warm-up and within the quiet period.
  const since = Math.max(state.warmUntil ?? 0, bucket.ts - ctx.rules.params.baseline.quiet_minutes * 60_000);
  const ips = ipCount > 0 && ipCount <= max ? freshValues(state.ips, bucket.ips, networkOf, since) : [];
  const uas = uaCount > 0 && uaCount <= max ? freshValues(state.uas, bucket.uas, clientOf, since) : [];
  if (ips.length === 0 && uas.length === 0) return null;
  const requests = [...ips.map((v) => bucket.ips![v]!), ...uas.map((v) => bucket.uas![v]!)];
  return {
    kind: 'new_source',
    at: bucket.ts,
    window: { from: bucket.ts, to: bucket.ts + state.bucketMs },
    unit: 'requests',
    observed: Math.max(...requests),
    expected: 0,
    low: 0,
    high: 0,
    method: `the ${ipCount} networks and ${uaCount} clients this key already uses`,
    score: 0.7,
    bucketImpact: bucket.credits,
    windowImpact: bucket.credits,
    facts: { ips, user_agents: uas },
  };
};
