import { describe, expect, it } from 'vitest';
import { fingerprintKey } from '../../../server/auth/secrets.ts';
import { createFingerprintCache } from '../../../server/ingest/gateway/fingerprint-cache.ts';

const SECRET = 'test-secret-test-secret-test-secret-0000';

describe('createFingerprintCache', () => {
  it('answers what fingerprintKey answers, for tokens seen again and for more tokens than it keeps', () => {
    const fingerprint = createFingerprintCache(SECRET, 3);
    const tokens = Array.from({ length: 8 }, (_, i) => `mhk_live_token_${i}`);
    // Twice round, with repeats in between: hits, misses and evictions all answer the same.
    for (const token of [...tokens, tokens[0]!, tokens[7]!, tokens[7]!, ...tokens]) {
      expect(fingerprint(token)).toBe(fingerprintKey(SECRET, token));
    }
  });

  it('keeps each server secret apart', () => {
    const a = createFingerprintCache(SECRET);
    const b = createFingerprintCache(`${SECRET}-other`);
    expect(a('mhk_live_same')).not.toBe(b('mhk_live_same'));
    expect(b('mhk_live_same')).toBe(fingerprintKey(`${SECRET}-other`, 'mhk_live_same'));
  });
});
