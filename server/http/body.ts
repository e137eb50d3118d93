/** Reading JSON request bodies: 415 when not JSON, 400 when malformed, 413 past the size limit. */
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { AppError } from '../errors.ts';

export const MAX_BODY_BYTES = 10 * 1024 * 1024;

export const limitBody = (maxSize = MAX_BODY_BYTES) =>
  bodyLimit({
    maxSize,
    onError: () => {
      throw new AppError(413, 'payload_too_large', `The body is larger than ${maxSize} bytes.`);
    },
  });

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
  if (!/^application\/([\w.+-]*\+)?json\b/i.test(type)) {
    throw new AppError(
      415,
      'unsupported_media_type',
      'Send the body as JSON with Content-Type: application/json.',
    );
  }
  return raw;
}

export function parseJsonText(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch (err) {
    throw new AppError(400, 'invalid_json', `The body is not valid JSON: ${(err as Error).message}`);
  }
}
