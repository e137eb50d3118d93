/**
 * Key fingerprints (HMAC under the server secret) remembered per token, so a busy key is not
 * re-HMACed on every request. The cache is keyed by the token's SHA-256, never the token itself,
 * and is bounded: the oldest entry goes first (Map keeps insertion order; hits are re-inserted).
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
    let fingerprint = entries.get(id);
    if (fingerprint !== undefined) {
      entries.delete(id);
    } else {
      fingerprint = fingerprintKey(secret, token);
      if (entries.size >= max) entries.delete(entries.keys().next().value!);
    }
    entries.set(id, fingerprint);
    return fingerprint;
  };
}
