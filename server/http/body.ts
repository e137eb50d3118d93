/** Reading JSON request bodies: 415 when not JSON, 400 when malformed, 413 past the size limit. */
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { AppError } from '../errors.ts';

export const MAX_BODY_BYTES = 10 * 1024 * 1024;

/**
 * 413 past `maxSize`. A body with a Content-Length is judged by it alone (Node's parser never lets
 * more through): hono's bodyLimit would touch the request's web stream, and a body read through
 * web streams costs the serving thread several times what @hono/node-server's direct read does
 * (a 10,000-event push is about a megabyte). A chunked body is counted as it arrives.
 */
export const limitBody = (maxSize = MAX_BODY_BYTES): MiddlewareHandler => {
  const tooLarge = () => {
    throw new AppError(413, 'payload_too_large', `The body is larger than ${maxSize} bytes.`);
  };
  const counted = bodyLimit({ maxSize, onError: tooLarge });
  return async (c, next) => {
    const length = c.req.header('content-length');
    if (length !== undefined && c.req.header('transfer-encoding') === undefined) {
      if (Number(length) > maxSize) tooLarge();
      await next();
      return;
    }
    return counted(c, next);
  };
};

export async function readJson(c: Context, options: { optional?: boolean } = {}): Promise<unknown> {
  const raw = await readJsonText(c, options);
  return raw === undefined ? undefined : parseJsonText(raw);
}

/** The body's text once it is known to be JSON (415 otherwise), for parsing elsewhere (a worker). */
export async function readJsonText(
  c: Context,
  options: { optional?: boolean } = {},
): Promise<string | undefined> {
  const type = c.req.header('content-type') ?? '';
  const raw = await c.req.text();
  if (raw.trim() === '' && options.optional) return undefined;
  if (!JSON_TYPE.test(type)) throw notJson();
  return raw;
}

const JSON_TYPE = /^application\/([\w.+-]*\+)?json\b/i;
const utf8 = new TextDecoder();
const notJson = () =>
  new AppError(415, 'unsupported_media_type', 'Send the body as JSON with Content-Type: application/json.');

/**
 * The body's bytes once it is known to be JSON (415 otherwise), to be handed to a worker thread
 * whole (transferred, not copied) and decoded there with parseJsonBytes.
 */
export async function readJsonBytes(c: Context): Promise<ArrayBuffer> {
  if (!JSON_TYPE.test(c.req.header('content-type') ?? '')) throw notJson();
  return c.req.arrayBuffer();
}

/** UTF-8 JSON bytes as readJsonBytes gives them: 400 when malformed (an invalid byte reads as U+FFFD, as text() would). */
export function parseJsonBytes(bytes: ArrayBuffer): unknown {
  return parseJsonText(utf8.decode(bytes));
}

export function parseJsonText(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch (err) {
    throw new AppError(400, 'invalid_json', `The body is not valid JSON: ${(err as Error).message}`);
  }
}
