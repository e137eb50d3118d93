/**
 * Request targets on the gateway: which ones are the gateway's, and the path and query the
 * upstream gets for them. The upstream always gets an origin-form target (`/path?query`): HTTP
 * has no request target that starts with `?`.
 */

/**
 * The upstream's path and query for a target under `prefix` (the prefix itself, or below it),
 * or null when the target is not the gateway's (`/gw/magichourx`, `/healthz`, `*`).
 * Absolute-form targets (`http://host/gw/...`, sent by clients that think they talk to a proxy)
 * are reduced to their path and query first.
 */
export function gatewayPath(target: string, prefix: string): string | null {
  const origin = target.startsWith('/') ? target : absoluteToOrigin(target);
  if (origin === null || !origin.startsWith(prefix)) return null;
  const rest = origin.slice(prefix.length);
  if (rest === '') return '/';
  if (rest.startsWith('/')) return rest;
  if (rest.startsWith('?')) return `/${rest}`;
  return null;
}

function absoluteToOrigin(target: string): string | null {
  if (!/^https?:\/\//i.test(target)) return null;
  try {
    const url = new URL(target);
    return url.pathname + url.search;
  } catch {
    return null;
  }
}
