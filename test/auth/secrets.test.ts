import { describe, expect, it } from 'vitest';
import {
  constantTimeEqual,
  generateHashedPassword,
  lastFour,
  verifyPassword,
} from '../../server/auth/secrets.ts';

describe('lastFour', () => {
  it('shows the last 4 characters only of secrets longer than 8', () => {
    expect(lastFour('mhk_live_abcd1234')).toBe('1234');
    expect(lastFour('123456789')).toBe('6789');
  });

  it.each(['', 'a', 'abcd', 'abcdefg', 'abcdefgh'])('keeps nothing of the short secret %j', (secret) => {
    expect(lastFour(secret)).toBeNull();
  });
});

describe('constantTimeEqual', () => {
  it('is true for equal strings only, whatever their lengths', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
    expect(constantTimeEqual('abc', 'abd')).toBe(false);
    expect(constantTimeEqual('abc', 'abcd')).toBe(false);
  });
});

describe('generateHashedPassword', () => {
  // serve hashes the first admin's password while it migrates a new database.
  it('gives a new password and its scrypt hash, which verifies it and nothing else', async () => {
    const a = await generateHashedPassword();
    const b = await generateHashedPassword();
    expect(a.password).not.toBe(b.password);
    expect(a.passwordHash).toMatch(/^scrypt\$/);
    expect(await verifyPassword(a.password, a.passwordHash)).toBe(true);
    expect(await verifyPassword(b.password, a.passwordHash)).toBe(false);
  });
});
