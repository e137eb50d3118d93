/** GET /assets/:name: hashed, immutable bundles; gzip when the browser accepts it. */
import { Hono } from 'hono';
import type { Assets } from '../assets.ts';

export function assetRoutes(getAssets: () => Promise<Assets>) {
  return new Hono().get('/:name', async (c) => {
    const asset = (await getAssets()).files.get(c.req.param('name'));
    if (!asset) return c.text('Not found', 404);
    const gzip = /\bgzip\b/.test(c.req.header('accept-encoding') ?? '');
    c.header('content-type', asset.type);
    c.header('cache-control', 'public, max-age=31536000, immutable');
    c.header('vary', 'accept-encoding');
    if (gzip) c.header('content-encoding', 'gzip');
    return c.body((gzip ? asset.gzip : asset.body) as Uint8Array<ArrayBuffer>);
  });
}
