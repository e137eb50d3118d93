/** revoked_use: any request on a key after its revocation time. Always critical. */
import type { Detector } from '../types.ts';
import { useFinding } from './use-finding.ts';

export const detectRevokedUse: Detector = (e) => {
  const { state, bucket, ctx } = e;
  if (ctx.revokedAt === null || bucket.requests <= 0 || bucket.ts + state.bucketMs <= ctx.revokedAt)
    return null;
  return useFinding(e, 'revoked_use', 'any use after the key was revoked', 1, { revoked_at: ctx.revokedAt });
};
