/**
 * The push event's common shape checked by hand: zod over 10,000 events was most of a batch's
 * time. Every rule of PushEventSchema is applied here for the forms clients send (IPv4 addresses,
 * ISO or epoch timestamps); anything else, and anything invalid, returns undefined so the caller
 * asks zod, whose answer (and error message) stays the reference. Pure.
 */
import { regexes } from 'zod';
import { parseIsoWithOffset } from '../../timestamps.ts';
import { clientOriginOf } from '../client-origin.ts';
import type { PushEvent } from './push.ts';

/** PushEventSchema's fields (a test keeps them equal: push.ts imports this module, so it cannot read them here). */
export const PUSH_FIELDS = [
  'id',
  'key',
  'ts',
  'credits',
  'requests',
  'operation',
  'status',
  'source_ip',
  'user_agent',
  'project_id',
  'latency_ms',
  'origin',
] as const;
export const PUSH_EVENT_FIELDS = new Set<string>(PUSH_FIELDS);
const OPERATION = /^[\w./:-]*$/;
const EPOCH_DIGITS = /^\d{1,16}$/;

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isInt = (v: unknown, min: number, max: number) =>
  isNumber(v) && Number.isSafeInteger(v) && v >= min && v <= max;
const isText = (v: unknown, max: number): v is string => typeof v === 'string' && v.length <= max;

/** TimestampSchema's rules for a number or a string; undefined when it would not accept it. */
function timestampOf(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 && v <= 8.64e15 ? v : undefined;
  if (typeof v !== 'string') return undefined;
  if (EPOCH_DIGITS.test(v)) return Number(v);
  const ms = parseIsoWithOffset(v);
  return Number.isNaN(ms) ? undefined : ms;
}

/** The event as PushEventSchema would output it, or undefined: then zod decides (and explains). */
export function parseCommonEvent(item: unknown): PushEvent | undefined {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return undefined;
  const e = item as Record<string, unknown>;
  for (const field in e) if (!PUSH_EVENT_FIELDS.has(field)) return undefined;
  const { id, credits = 0, requests = 1, status = 200 } = e;
  if (!isText(id, 128) || id.length < 1) return undefined;
  if (typeof e.key !== 'string') return undefined;
  const key = e.key.trim();
  if (key.length < 1 || key.length > 200) return undefined;
  if (!isNumber(credits) || credits < 0 || credits > 1e9) return undefined;
  if (!isInt(requests, 1, 1e6) || !isInt(status, 100, 599)) return undefined;
  const out: PushEvent = { id, key, credits, requests, status } as PushEvent;
  if ('ts' in e) {
    const ts = timestampOf(e.ts);
    if (ts === undefined) return undefined;
    out.ts = ts;
  }
  if ('operation' in e) {
    if (e.operation === null) out.operation = null;
    else {
      if (typeof e.operation !== 'string') return undefined;
      const operation = e.operation.trim();
      if (operation.length > 100 || !OPERATION.test(operation)) return undefined;
      out.operation = operation;
    }
  }
  if ('source_ip' in e) {
    // IPv6 has more rules in zod than its pattern: those go to zod.
    if (e.source_ip !== null && !(typeof e.source_ip === 'string' && regexes.ipv4.test(e.source_ip))) {
      return undefined;
    }
    out.source_ip = e.source_ip;
  }
  for (const [field, max] of [
    ['user_agent', 500],
    ['project_id', 200],
  ] as const) {
    if (!(field in e)) continue;
    const v = e[field];
    if (v !== null && !isText(v, max)) return undefined;
    out[field] = v;
  }
  if ('latency_ms' in e) {
    const v = e.latency_ms;
    if (v !== null && !(isNumber(v) && v >= 0 && v <= 3.6e6)) return undefined;
    out.latency_ms = v;
  }
  if ('origin' in e) {
    const v = e.origin;
    if (v !== null && !(isText(v, 2000) && clientOriginOf(v, undefined) !== null)) return undefined;
    out.origin = v;
  }
  return out;
}
