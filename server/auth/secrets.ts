/** Hashing and comparing secrets: tokens, API key fingerprints, passwords. */
import { createHash, createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const scryptAsync = promisify(scrypt) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** The stable, non-reversible identity of a provider API key: HMAC under the server secret. */
export function fingerprintKey(serverSecret: string, apiKey: string): string {
  return `sha256:${createHmac('sha256', serverSecret).update(apiKey, 'utf8').digest('hex')}`;
}

/**
 * Secrets of this many characters or fewer are kept as their fingerprint only: their last 4 would
 * give away half of them or more (all of one of 4 characters).
 */
export const SHORT_SECRET_MAX = 8;

/** The last 4 characters, shown to tell keys apart; null for a short secret (see SHORT_SECRET_MAX). */
export function lastFour(secret: string): string | null {
  return secret.length > SHORT_SECRET_MAX ? secret.slice(-4) : null;
}

export function constantTimeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  // Compare equal-length buffers always, so the length check leaks nothing about content.
  const same = timingSafeEqual(
    createHash('sha256').update(ab).digest(),
    createHash('sha256').update(bb).digest(),
  );
  return same && ab.length === bb.length;
}

export function randomToken(prefix: string, bytes = 24): string {
  return `${prefix}${randomBytes(bytes).toString('base64url')}`;
}

export function randomId(prefix: string): string {
  return `${prefix}${randomBytes(9).toString('base64url').replace(/[-_]/g, 'x')}`;
}

const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 };

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(password, salt, SCRYPT.keylen, { ...SCRYPT, maxmem: 64 * 1024 * 1024 });
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [alg, n, r, p, saltB64, hashB64] = stored.split('$');
  if (alg !== 'scrypt' || !n || !r || !p || !saltB64 || !hashB64) return false;
  const expected = Buffer.from(hashB64, 'base64');
  const actual = await scryptAsync(password, Buffer.from(saltB64, 'base64'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: 64 * 1024 * 1024,
  });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

export function generatePassword(): string {
  return randomBytes(15).toString('base64url');
}

export type HashedPassword = { password: string; passwordHash: string };

/** A generated password with its hash: started early, the hash runs on the thread pool meanwhile. */
export async function generateHashedPassword(): Promise<HashedPassword> {
  const password = generatePassword();
  return { password, passwordHash: await hashPassword(password) };
}
