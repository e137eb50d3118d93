/**
 * One queued usage event as the JSON line the journal appends and the writer thread parses. Built
 * field by field rather than by JSON.stringify of the object: on the serving thread, with every
 * object shape the app has seen, JSON.stringify of this nested object cost several times more per
 * request than the template (tools/bench/gateway.bench.ts, BENCH_PROF=keywatch). Strings still go
 * through JSON.stringify (escaping); the key's part is the same for every request of a key and is
 * remembered (bounded, by fingerprint: no secret in it).
 */
import type { UsageEvent } from '../../usage/record-events.ts';
import type { QueuedUsage } from './write-batch.ts';

/** Every field of UsageEvent, so that one added there fails to compile here until it is written too. */
const FIELDS = [
  'source',
  'eventId',
  'key',
  'ts',
  'credits',
  'requests',
  'status',
  'operation',
  'sourceIp',
  'userAgent',
  'clientOrigin',
  'projectId',
  'latencyMs',
] as const;
type Missing = Exclude<keyof UsageEvent, (typeof FIELDS)[number]>;
const allFieldsWritten: [Missing] extends [never] ? true : Missing = true;
void allFieldsWritten;

const KEYS_KEPT = 1_000;
const keyParts = new Map<string, string>();

/** JSON of an optional string field: `,"name":"value"`, `,"name":null`, or nothing when undefined. */
const text = (name: string, v: string | null | undefined) =>
  v === undefined ? '' : v === null ? `,"${name}":null` : `,"${name}":${JSON.stringify(v)}`;

/** Numbers as JSON writes them: a non-finite one is null. */
const num = (v: number) => (Number.isFinite(v) ? `${v}` : 'null');

const optionalNum = (name: string, v: number | null | undefined) =>
  v === undefined ? '' : v === null ? `,"${name}":null` : `,"${name}":${num(v)}`;

function keyJson(key: UsageEvent['key']): string {
  if (key.by !== 'fingerprint') return JSON.stringify(key);
  // last4 is 4 characters or null/undefined, so the one-character marks cannot stand for a real one.
  const id = `${key.fingerprint}\u0000${key.last4 === undefined ? '\u0001' : (key.last4 ?? '\u0002')}`;
  let part = keyParts.get(id);
  if (part === undefined) {
    part = JSON.stringify(key);
    // Bounded: past the limit it starts over (a few keys are busy; the rest is a moment's JSON).
    if (keyParts.size >= KEYS_KEPT) keyParts.clear();
    keyParts.set(id, part);
  }
  return part;
}

/** The line for one event (no newline); JSON.parse gives back the item, undefined fields left out. */
export function usageLine(item: QueuedUsage): string {
  const e = item.event;
  const project = item.project === undefined ? '' : `,"project":${JSON.stringify(item.project)}`;
  return (
    `{"event":{"source":${JSON.stringify(e.source)},"eventId":${JSON.stringify(e.eventId)},` +
    `"key":${keyJson(e.key)},"ts":${num(e.ts)},"credits":${num(e.credits)},` +
    `"requests":${num(e.requests)},"status":${num(e.status)},"operation":${JSON.stringify(e.operation)}` +
    `${text('sourceIp', e.sourceIp)}${text('userAgent', e.userAgent)}${text('clientOrigin', e.clientOrigin)}` +
    `${text('projectId', e.projectId)}${optionalNum('latencyMs', e.latencyMs)}}${project}}`
  );
}
