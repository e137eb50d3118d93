/** Sends a JSX page as a complete HTML document (hono/jsx renders elements without the doctype). */
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export async function sendPage(c: Context, page: unknown, status: ContentfulStatusCode = 200) {
  return c.html(`<!doctype html>${await (page as Promise<string> | string)}`, status);
}
