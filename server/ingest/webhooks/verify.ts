/**
 * Webhook signature check as a middleware on the raw body: signature = hex(HMAC-SHA256(secret,
 * "{timestamp}.{raw body}")), timestamp (unix seconds) within the tolerance of the injected clock,
 * compared in constant time. Anything else is a 401 before a handler sees the body.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { Clock } from '../../clock.ts';
import { AppError, unauthorized } from '../../errors.ts';

export type WebhookEnv = { Variables: { rawBody: string; eventTs: number } };

export type VerifyOptions = {
  secret: string | undefined;
  clock: Clock;
  signatureHeader: string;
  timestampHeader: string;
  toleranceMs?: number;
  /** Called for every rejected request (source health counts them). */
  onReject?: (reason: string) => void;
};

export function signPayload(secret: string, timestamp: string, rawBody: Buffer | string): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex');
}

export function verifyWebhookSignature(options: VerifyOptions): MiddlewareHandler<WebhookEnv> {
  const tolerance = options.toleranceMs ?? 300_000;
  return async (c, next) => {
    if (!options.secret) {
      throw new AppError(503, 'webhooks_disabled', 'Webhooks are off: no webhook secret is configured.');
    }
    const reject = (reason: string) => {
      options.onReject?.(reason);
      return unauthorized(`Webhook rejected: ${reason}.`);
    };
    const timestamp = c.req.header(options.timestampHeader) ?? '';
    const signature = (c.req.header(options.signatureHeader) ?? '').trim().toLowerCase();
    if (!/^\d{1,12}$/.test(timestamp)) throw reject('missing or malformed timestamp');
    if (!/^[0-9a-f]{64}$/.test(signature)) throw reject('missing or malformed signature');
    const eventTs = Number(timestamp) * 1000;
    if (Math.abs(options.clock.now() - eventTs) > tolerance) throw reject('timestamp outside the tolerance');

    const raw = Buffer.from(await c.req.arrayBuffer());
    const expected = Buffer.from(signPayload(options.secret, timestamp, raw), 'hex');
    if (!timingSafeEqual(expected, Buffer.from(signature, 'hex'))) throw reject('signature mismatch');
    c.set('rawBody', raw.toString('utf8'));
    c.set('eventTs', eventTs);
    await next();
  };
}
