/** Calls the app in-process with `app.request()`, with a token of the scopes a test needs. */
import { createApp } from '../../server/app.ts';
import { createApiToken } from '../../server/auth/tokens.ts';
import type { Scope } from '../../server/db/schema/index.ts';
import type { Deps } from '../../server/deps.ts';

export function createTestApi(deps: Deps) {
  const app = createApp(deps);
  const tokenFor = async (...scopes: Scope[]) =>
    (await createApiToken(deps, { name: `test-${scopes.join('-')}`, scopes, actor: 'test' })).token;
  const call = async (method: string, path: string, token: string | null, body?: unknown) => {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await app.request(path, {
      method,
      headers,
      ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON responses
    let json: any = null;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: res.status, json, headers: res.headers };
  };
  return { app, tokenFor, call };
}
