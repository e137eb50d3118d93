/** Magic Hour: operation names from paths, credits in responses, webhook events, account balance and plan. */
import { z } from 'zod';
import { parseAccount } from './magichour-account.ts';
import type { ProjectOutcome, Provider, ResponseFacts, ResponseKind } from './types.ts';

const OPERATION = /^[a-z0-9][a-z0-9._-]{0,99}$/i;
const PROJECT_PATH = /^\/v1\/(video|image|audio)-projects\/[^/]+\/?$/;
/** POSTs that are not billable creates. */
const NOT_CREATES = new Set(['files']);

const WebhookSchema = z.looseObject({
  type: z.string().min(1).max(100),
  payload: z.looseObject({
    id: z.string().min(1).max(200),
    credits_charged: z.number().finite().min(0).nullish(),
    status: z.string().max(50).nullish(),
    created_at: z.string().max(64).nullish(),
  }),
});

const EVENT_TYPE = /^(video|image|audio)\.(started|completed|errored)$/;

/** Field names the account endpoint has used or may use for the credit balance. */
const BALANCE_FIELDS = ['credits', 'credit_balance', 'credits_balance', 'balance', 'available_credits'];

export function operationFromPath(path: string): string {
  const segment = /^\/v1\/([^/?#]+)/.exec(path)?.[1];
  return segment && OPERATION.test(segment) ? segment.toLowerCase() : 'other';
}

export function responseKind(method: string, path: string): ResponseKind {
  if (method === 'GET' && PROJECT_PATH.test(path)) return 'project';
  if (method !== 'POST') return null;
  const m = /^\/v1\/([^/]+)\/?$/.exec(path);
  return m?.[1] && !NOT_CREATES.has(m[1]) ? 'create' : null;
}

/**
 * The facts of a create or project answer: `id` (1-200 characters), `credits_charged` (a finite
 * number >= 0) and `status` (at most 50 characters), each optional; any other field is ignored and
 * any one of these out of shape makes the answer unreadable (null). Checked by hand rather than
 * with a zod schema: this runs on the gateway's serving thread for every proxied create, where
 * zod's object parse (shared by every schema of the app, so megamorphic, with a memo WeakMap per
 * call) cost several microseconds a request (tools/bench/gateway.bench.ts, BENCH_PROF=keywatch).
 * test/ingest/providers/magichour-facts.test.ts holds the equivalent zod schema as the reference.
 */
export function readFacts(_kind: Exclude<ResponseKind, null>, body: unknown): ResponseFacts | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return null;
  const { id, credits_charged, status } = body as Record<string, unknown>;
  if (id !== undefined && (typeof id !== 'string' || id.length < 1 || id.length > 200)) return null;
  if (
    credits_charged !== undefined &&
    (typeof credits_charged !== 'number' || !Number.isFinite(credits_charged) || credits_charged < 0)
  )
    return null;
  if (status !== undefined && (typeof status !== 'string' || status.length > 50)) return null;
  if (id === undefined && credits_charged === undefined) return null;
  return { credits: credits_charged ?? null, projectId: id ?? null, status: status ?? null };
}

export function parseWebhookEvent(body: unknown) {
  const parsed = WebhookSchema.safeParse(body);
  if (!parsed.success) return null;
  const { type, payload } = parsed.data;
  const m = EVENT_TYPE.exec(type);
  const createdAt = payload.created_at ? Date.parse(payload.created_at) : Number.NaN;
  return {
    type,
    kind: m?.[1] ?? type.split('.')[0] ?? 'unknown',
    outcome: (m?.[2] ?? 'other') as ProjectOutcome,
    projectId: payload.id,
    credits: payload.credits_charged ?? null,
    status: payload.status ?? null,
    createdAt: Number.isNaN(createdAt) ? null : createdAt,
  };
}

export function parseBalance(body: unknown): number | null {
  if (typeof body !== 'object' || body === null) return null;
  for (const field of BALANCE_FIELDS) {
    const v = (body as Record<string, unknown>)[field];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
  }
  return null;
}

export const magicHour: Provider = {
  id: 'magichour',
  displayName: 'Magic Hour',
  defaultBaseUrl: 'https://api.magichour.ai',
  gateway: { operationFromPath, responseKind, readFacts },
  webhooks: {
    signatureHeader: 'magic-hour-event-signature',
    timestampHeader: 'magic-hour-event-timestamp',
    parseEvent: parseWebhookEvent,
  },
  account: { balancePath: '/v1/account', parseBalance, parseAccount },
};
