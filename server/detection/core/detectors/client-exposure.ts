/**
 * client_exposure: the key is in client-side code, where anyone can read it (the provider's first
 * rule: never expose API keys in client-side code). Three kinds of evidence, any one enough:
 * requests with a browser's user agent, requests carrying an Origin or Referer (a web page made
 * them; critical, since that is a browser whatever its user agent says), or a warm key suddenly
 * used from many unrelated networks (IPv4 /24, IPv6 /64) within a day when its usual count is
 * small (an app shipped with the key inside). Evidence already reported is not reported again for
 * `repeat_hours`, so a standing exposure is one finding per episode, not one per request.
 */
import { browserOf } from '../browser-agent.ts';
import type { KeyState } from '../state.ts';
import type { Bucket, Detector } from '../types.ts';

const HOUR = 3_600_000;
/** Samples of raw user agents kept as evidence, each cut to this length. */
const UA_SAMPLES = 3;
const UA_CHARS = 200;
const MAX_ORIGINS = 10;

export type ExposureState = {
  /** Network -> last bucket it was seen in, within the window (bounded, see NET_CAP). */
  nets: Record<string, number>;
  /** How many entries `nets` has. */
  n: number;
  /** The key's usual count of networks in a window, sampled hourly; and how many samples. */
  usual: number;
  samples: number;
  /** Evidence ("origin:https://…", "browser:Chrome", "networks") -> when last reported. */
  reported: Record<string, number>;
};

// Keys send from the same few addresses every minute: remember their networks (bounded).
const netMemo = new Map<string, string>();
const NET_MEMO_MAX = 10_000;

function cachedNetworkOf(ip: string): string {
  let net = netMemo.get(ip);
  if (net === undefined) {
    net = exposureNetworkOf(ip);
    if (netMemo.size >= NET_MEMO_MAX) netMemo.clear();
    netMemo.set(ip, net);
  }
  return net;
}

/** The network of an address: a provider hands out /24s and /64s, so one site is one network. */
export function exposureNetworkOf(ip: string): string {
  if (ip.includes(':')) {
    const [head, tail] = ip.split('::');
    const groups = head!.split(':').filter(Boolean);
    // "2001:db8::1": the missing groups are zeros; only the first four name the /64.
    if (tail !== undefined) while (groups.length < 4) groups.push('0');
    return `${groups.slice(0, 4).join(':')}::/64`;
  }
  const parts = ip.split('.');
  return parts.length === 4 ? `${parts.slice(0, 3).join('.')}.0/24` : ip;
}

export const createExposure = (): ExposureState => ({ nets: {}, n: 0, usual: 0, samples: 0, reported: {} });

/**
 * Notes this bucket's networks; at each hour's end, forgets networks outside the window and folds
 * the count into the key's usual count (a running mean, then a week's moving average).
 */
function foldNetworks(x: ExposureState, b: Bucket, state: KeyState, windowMs: number, cap: number): void {
  for (const ip in b.ips) {
    const net = cachedNetworkOf(ip);
    if (x.nets[net] !== undefined) x.nets[net] = b.ts;
    else if (x.n < cap) {
      x.nets[net] = b.ts;
      x.n++;
    }
  }
  if (Math.floor((b.ts + state.bucketMs) / HOUR) === Math.floor(b.ts / HOUR)) return;
  for (const [net, at] of Object.entries(x.nets)) {
    if (at < b.ts - windowMs) {
      delete x.nets[net];
      x.n--;
    }
  }
  x.samples = Math.min(x.samples + 1, 168);
  x.usual += (x.n - x.usual) / x.samples;
}

/** Values not reported within `repeatMs`; marks them reported at `ts`. */
function fresh(x: ExposureState, values: string[], ts: number, repeatMs: number): string[] {
  if (values.length === 0) return values;
  const out = values.filter((v) => {
    const at = x.reported[v];
    return at === undefined || ts - at >= repeatMs;
  });
  for (const v of out) x.reported[v] = ts;
  // Bounded: forget reports older than the repeat period.
  if (out.length > 0)
    for (const [v, at] of Object.entries(x.reported)) if (ts - at >= repeatMs) delete x.reported[v];
  return out;
}

export const detectClientExposure: Detector = (e) => {
  const { state, bucket, ctx } = e;
  const p = ctx.rules.params.client_exposure;
  const x = state.exposure ?? createExposure();
  state.exposure = x;
  const windowMs = p.window_hours * HOUR;
  const repeatMs = p.repeat_hours * HOUR;
  foldNetworks(x, bucket, state, windowMs, Math.max(4 * p.max_networks, 16));
  if (bucket.requests <= 0) return null;

  const browsers = new Map<string, number>();
  const agents: string[] = [];
  let browserRequests = 0;
  for (const ua in bucket.uas) {
    const label = browserOf(ua);
    if (!label) continue;
    const n = bucket.uas[ua]!;
    browserRequests += n;
    browsers.set(label, (browsers.get(label) ?? 0) + n);
    if (agents.length < UA_SAMPLES) agents.push(ua.slice(0, UA_CHARS));
  }
  const origins = bucket.origins ? Object.keys(bucket.origins).slice(0, MAX_ORIGINS) : [];
  let originRequests = 0;
  for (const o of origins) originRequests += bucket.origins![o]!;

  const minBrowser = p.min_browser_requests / ctx.factor('client_exposure');
  const browserNews =
    browserRequests >= minBrowser
      ? fresh(
          x,
          [...browsers.keys()].map((b) => `browser:${b.replace(/ \d+/, '')}`),
          bucket.ts,
          repeatMs,
        )
      : [];
  const originNews = fresh(
    x,
    origins.map((o) => `origin:${o}`),
    bucket.ts,
    repeatMs,
  );
  // Many networks only means something against the key's own habit, so only once it is warm.
  const many = Math.max(p.max_networks, p.usual_ratio * x.usual) * ctx.factor('client_exposure');
  const networkNews = e.warm && x.n >= many ? fresh(x, ['networks'], bucket.ts, repeatMs) : [];
  if (browserNews.length === 0 && originNews.length === 0 && networkNews.length === 0) return null;

  const direct = browserRequests + originRequests > 0;
  const evidence: Record<string, string | number | string[]> = {
    networks: x.n,
    usual_networks: Math.round(x.usual * 10) / 10,
    window_hours: p.window_hours,
  };
  if (browserRequests > 0) {
    evidence.browser_requests = browserRequests;
    evidence.browsers = [...browsers.entries()].sort((a, b) => b[1] - a[1]).map(([label]) => label);
    evidence.user_agents = agents;
  }
  if (originRequests > 0) {
    evidence.origin_requests = originRequests;
    evidence.origins = origins;
  }
  return {
    kind: 'client_exposure',
    at: bucket.ts,
    window: { from: bucket.ts, to: bucket.ts + state.bucketMs },
    unit: direct ? 'requests' : 'networks',
    // Direct evidence: the requests that came from a page or browser (none are expected).
    // Networks alone: how many the key was used from in the window, against its usual count.
    observed: direct ? Math.max(browserRequests, originRequests) : x.n,
    expected: direct ? 0 : Math.round(x.usual * 10) / 10,
    low: 0,
    high: direct ? 0 : Math.round(many),
    method: direct
      ? 'browser user agents and Origin/Referer headers are never expected on a server key'
      : `distinct networks in ${p.window_hours} h against the key's usual ${Math.round(x.usual * 10) / 10}`,
    score: originRequests > 0 ? 0.95 : 0.8,
    bucketImpact: 0,
    windowImpact: 0,
    ...(originRequests > 0 && { minSeverity: 'critical' as const }),
    facts: evidence,
  };
};
