/**
 * The web origin a request came from, reduced from its `Origin` or `Referer` header to
 * scheme://host[:port]. A Referer's path and query may carry tokens or personal data, so only the
 * origin is ever kept. A key whose requests carry either header is being called from a web page.
 */

/** Longest origin kept: a host name is at most 253 characters, plus scheme and port. */
const MAX_ORIGIN = 300;

/** `scheme://host[:port]` of a header value, `null` for a page with an opaque origin, or undefined when unusable. */
function reduce(value: string | undefined): string | undefined {
  const v = value?.trim();
  if (!v) return undefined;
  // Browsers send the literal "null" from sandboxed frames and file:// pages: still a browser.
  if (v === 'null') return 'null';
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    return undefined;
  }
  // URL.origin is "null" for non-special schemes (chrome-extension://…); the host still says who.
  const origin = `${url.protocol}//${url.host}`.toLowerCase();
  return url.host && origin.length <= MAX_ORIGIN ? origin : undefined;
}

/** The request's client origin from `Origin`, else `Referer`; null when neither names one. */
export function clientOriginOf(origin: string | undefined, referer: string | undefined): string | null {
  return reduce(origin) ?? reduce(referer) ?? null;
}
