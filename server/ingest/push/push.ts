/** POST /api/v1/usage: the push API's schema and its mapping to recordEvents(). */
import { z } from 'zod';
import { type Clock, DAY } from '../../clock.ts';
import { AppError, type Issue, issuesFromZod, validationError } from '../../errors.ts';
import { TimestampSchema } from '../../timestamps.ts';
import type { KeyRef, UsageEvent } from '../../usage/record-events.ts';
import { clientOriginOf } from '../client-origin.ts';
import { parseCommonEvent } from './fast-event.ts';

export const MAX_EVENTS_PER_BATCH = 10_000;
/** Events stamped further ahead than this are a client clock bug, not usage. */
export const MAX_FUTURE_SKEW_MS = 5 * 60_000;
/** `sha256:<64 hex>` in either case (a fingerprint as some tool printed it); stored lowercase. */
const FINGERPRINT = /^sha256:[0-9a-f]{64}$/i;

const optionalText = (max: number) => z.string().max(max).nullish();

export const PushEventSchema = z.strictObject({
  id: z.string().min(1).max(128),
  key: z.string().trim().min(1).max(200),
  ts: TimestampSchema.optional(),
  credits: z.number().finite().min(0).max(1e9).default(0),
  requests: z.number().int().min(1).max(1e6).default(1),
  operation: z
    .string()
    .trim()
    .max(100)
    .regex(/^[\w./:-]*$/, 'may contain letters, digits and . _ / : - only')
    .nullish(),
  status: z.number().int().min(100).max(599).default(200),
  source_ip: z.union([z.ipv4(), z.ipv6()]).nullish(),
  user_agent: optionalText(500),
  project_id: optionalText(200),
  latency_ms: z.number().min(0).max(3.6e6).nullish(),
  /** The web page the call came from (its Origin or Referer); only scheme://host[:port] is kept. */
  origin: z
    .string()
    .max(2000)
    .refine(
      (v) => clientOriginOf(v, undefined) !== null,
      'must be an origin or URL such as https://app.example.com',
    )
    .nullish(),
});

export type PushEvent = z.output<typeof PushEventSchema>;

/** The request body; parsePushBatch checks it event by event to name every bad field. */
export const PushBatchSchema = z.strictObject({ events: z.array(PushEventSchema).max(MAX_EVENTS_PER_BATCH) });
export const PushResultSchema = z.object({ accepted: z.number().int(), duplicates: z.number().int() });

/** Validates a whole batch, naming every bad field; nothing is stored unless all of it is valid. */
export function parsePushBatch(
  body: unknown,
  clock: Clock,
  options: { source?: string; maxAgeDays?: number } = {},
): UsageEvent[] {
  const source = options.source ?? 'push';
  if (typeof body !== 'object' || body === null || !Array.isArray((body as { events?: unknown }).events)) {
    throw validationError([{ path: 'events', message: 'required: an array of usage events' }]);
  }
  const raw = (body as { events: unknown[] }).events;
  if (raw.length > MAX_EVENTS_PER_BATCH) {
    throw new AppError(
      413,
      'payload_too_large',
      `At most ${MAX_EVENTS_PER_BATCH} events per request; got ${raw.length}.`,
      // Named like a validation issue, so a client can tell which part of the request to split.
      [{ path: 'events', message: `at most ${MAX_EVENTS_PER_BATCH} events per request` }],
    );
  }
  const extra = Object.keys(body).filter((k) => k !== 'events');
  const issues: Issue[] = extra.map((k) => ({ path: k, message: 'unknown field' }));
  const now = clock.now();
  const events: UsageEvent[] = [];
  raw.forEach((item, i) => {
    // The common shape is checked by hand; zod decides (and names the field) for anything else.
    let e = parseCommonEvent(item);
    if (!e) {
      const parsed = PushEventSchema.safeParse(item);
      if (!parsed.success) {
        issues.push(...issuesFromZod(parsed.error.issues, ['events', String(i)]));
        return;
      }
      e = parsed.data;
    }
    if (e.ts !== undefined && e.ts > now + MAX_FUTURE_SKEW_MS) {
      issues.push({ path: `events.${i}.ts`, message: 'is more than 5 minutes in the future' });
      return;
    }
    // Older than raw events are kept: it could never be judged or shown; history goes through CSV import.
    if (e.ts !== undefined && options.maxAgeDays !== undefined && e.ts < now - options.maxAgeDays * DAY) {
      issues.push({
        path: `events.${i}.ts`,
        message: `is more than ${options.maxAgeDays} days old (KEYWATCH_RETENTION_EVENT_DAYS); import history with keywatch import csv`,
      });
      return;
    }
    events.push(toUsageEvent(e, now, source));
  });
  if (issues.length > 0) {
    throw validationError(
      issues,
      `The batch was rejected: ${issues.length} invalid field(s); nothing was stored.`,
    );
  }
  return events;
}

/** A validated push-format event as recordEvents() takes it; `ts` defaults to `now`. */
export function toUsageEvent(e: PushEvent, now: number, source: string): UsageEvent {
  const key: KeyRef = FINGERPRINT.test(e.key)
    ? { by: 'fingerprint', fingerprint: e.key.toLowerCase() }
    : { by: 'ref', value: e.key };
  return {
    source,
    eventId: e.id,
    key,
    ts: e.ts ?? now,
    credits: e.credits,
    requests: e.requests,
    status: e.status,
    operation: e.operation ?? '',
    sourceIp: e.source_ip ?? null,
    userAgent: e.user_agent ?? null,
    projectId: e.project_id ?? null,
    latencyMs: e.latency_ms ?? null,
    clientOrigin: e.origin ? clientOriginOf(e.origin, undefined) : null,
  };
}
