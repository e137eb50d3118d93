/**
 * Key fingerprints (HMAC under the server secret) remembered per token, so a busy key is not
 * re-HMACed on every request. The cache is keyed by the token's SHA-256, never the token itself,
 * and is bounded: the entry added first goes first (Map keeps insertion order).
 *
 * A hit leaves the map alone: moving the entry to the end (least recently used goes first) wrote a
 * new string into this long-lived map on every request, which the young-generation GC must then
 * trace. The price: a busy key is HMACed again once 1,000 newer tokens have pushed it out.
 */
import crypto from 'node:crypto';
import { fingerprintKey } from '../../auth/secrets.ts';

// crypto.hash (Node >= 20.12) is a one-shot digest without a Hash object; older 20.x falls back.
const sha256 =
  typeof crypto.hash === 'function'
    ? (value: string) => crypto.hash('sha256', value, 'base64')
    : (value: string) => crypto.createHash('sha256').update(value, 'utf8').digest('base64');

export function createFingerprintCache(secret: string, max = 1_000): (token: string) => string {
  const entries = new Map<string, string>();
  return (token) => {
    const id = sha256(token);
    const known = entries.get(id);
    if (known !== undefined) return known;
    const fingerprint = fingerprintKey(secret, token);
    if (entries.size >= max) entries.delete(entries.keys().next().value!);
    entries.set(id, fingerprint);
    return fingerprint;
  };
}
