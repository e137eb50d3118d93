/**
 * Whether a user agent is a web browser, and which ("Chrome 131 on macOS"). A key used from a
 * browser is in client-side code, where anyone can read it. Server SDKs, command-line tools, HTTP
 * libraries, headless automation and bots are not browsers, whatever they claim to be: a few of
 * them send "Mozilla/5.0 (compatible; …)". Pure.
 */

/** Agents that are not a person's browser even when they start with Mozilla/. */
const NOT_BROWSER =
  /bot\b|bot\/|crawl|spider|slurp|headless|lighthouse|phantomjs|electron\/|curl\/|wget\/|python|node-fetch|undici|axios|okhttp|go-http-client|java\/|postman|insomnia|magic-?hour|\bcompatible;/i;
/** A rendering engine token: what real browsers carry after Mozilla/5.0. */
const ENGINE = /applewebkit\/|gecko\/|trident\/|presto\//i;

const BROWSERS: readonly [RegExp, string][] = [
  [/edg(?:e|a|ios)?\/(\d+)/i, 'Edge'],
  [/(?:opr|opera)\/(\d+)/i, 'Opera'],
  [/samsungbrowser\/(\d+)/i, 'Samsung Internet'],
  [/(?:firefox|fxios)\/(\d+)/i, 'Firefox'],
  [/(?:chrome|crios)\/(\d+)/i, 'Chrome'],
  [/version\/(\d+)[\d.]* (?:mobile\/\S+ )?safari\//i, 'Safari'],
  [/trident\/.*rv:(\d+)/i, 'Internet Explorer'],
];

const SYSTEMS: readonly [RegExp, string][] = [
  [/iphone|ipad|ipod/i, 'iOS'],
  [/android/i, 'Android'],
  [/cros/i, 'ChromeOS'],
  [/mac os x|macintosh/i, 'macOS'],
  [/windows/i, 'Windows'],
  [/linux/i, 'Linux'],
];

function classify(ua: string): string | null {
  if (!/^mozilla\/\d/i.test(ua) || !ENGINE.test(ua) || NOT_BROWSER.test(ua)) return null;
  let name = 'a browser';
  for (const [re, label] of BROWSERS) {
    const m = re.exec(ua);
    if (m) {
      name = `${label} ${m[1]}`;
      break;
    }
  }
  const system = SYSTEMS.find(([re]) => re.test(ua))?.[1];
  return system ? `${name} on ${system}` : name;
}

// Keys see the same few agents every minute: remember the answers (bounded, so a flood of
// distinct agents costs memory only up to the bound).
const memo = new Map<string, string | null>();
const MEMO_MAX = 2_000;

/** "Chrome 131 on macOS" for a browser's user agent, null for anything else. */
export function browserOf(ua: string): string | null {
  const hit = memo.get(ua);
  if (hit !== undefined) return hit;
  const answer = classify(ua.slice(0, 500));
  if (memo.size >= MEMO_MAX) memo.clear();
  memo.set(ua, answer);
  return answer;
}
