/** POST /webhooks/<provider>: signed by the provider, not by a Keywatch credential. */
import { Hono } from 'hono';
import type { Deps } from '../../deps.ts';
import { limitBody } from '../../http/body.ts';
import type { Provider, WebhookAdapter } from '../providers/types.ts';
import { receiveWebhook } from './receive.ts';
import { verifyWebhookSignature, type WebhookEnv } from './verify.ts';

/** Provider events are a few KB; anything far larger is not a webhook. */
const MAX_WEBHOOK_BYTES = 1024 * 1024;

export function webhookRoutes(
  deps: Deps,
  provider: Provider & { webhooks: WebhookAdapter },
  secret: string | undefined,
  onReject?: (reason: string) => void,
) {
  return new Hono<WebhookEnv>().post(
    '/',
    limitBody(MAX_WEBHOOK_BYTES),
    verifyWebhookSignature({
      secret,
      clock: deps.clock,
      signatureHeader: provider.webhooks.signatureHeader,
      timestampHeader: provider.webhooks.timestampHeader,
      ...(onReject && { onReject }),
    }),
    async (c) => {
      const result = await receiveWebhook(deps, provider, c.get('rawBody'), c.get('eventTs'));
      return c.json({ received: true, ...result });
    },
  );
}
