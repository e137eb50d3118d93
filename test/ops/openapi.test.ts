/**
 * GET /api/v1/openapi.json: covers every real /api/v1 route of the app (and nothing else), is a
 * structurally valid OpenAPI 3.1 document, and says what the validators enforce.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSession } from '../../server/auth/sessions.ts';
import { addUser } from '../../server/auth/users.ts';
import { detectionApi } from '../../server/detection/routes.ts';
import type { ApiOperation } from '../../server/http/api-operation.ts';
import type { OpenApiDocument } from '../../server/http/openapi.ts';
import { pushApi } from '../../server/ingest/push/routes.ts';
import { keysApi } from '../../server/keys/routes.ts';
import { usageApi } from '../../server/usage/routes.ts';
import { createTestApi } from '../helpers/api.ts';
import { createTestDeps, T0, type TestDeps } from '../helpers/store.ts';

let deps: TestDeps;
let api: ReturnType<typeof createTestApi>;
let doc: OpenApiDocument;
const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

beforeAll(async () => {
  deps = createTestDeps();
  api = createTestApi(deps);
  const res = await api.call('GET', '/api/v1/openapi.json', null);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  doc = res.json;
});
afterAll(() => deps.cleanup());

/** `METHOD /path/{param}` of every documented operation. */
const documented = () =>
  Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
  );

/** `METHOD /path/{param}` of every handler the app really serves under /api/v1. */
function served(): string[] {
  const found = new Set<string>();
  for (const r of api.app.routes) {
    // `ALL` entries are middleware (auth, body limits) registered with .use(), not operations.
    if (!r.path.startsWith('/api/v1') || r.method === 'ALL') continue;
    found.add(`${r.method} ${r.path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}')}`);
  }
  return [...found];
}

/** Follows a local JSON pointer (`#/components/schemas/Error`) through the document. */
function resolvePointer(root: unknown, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = root;
  for (const raw of ref.slice(2).split('/')) {
    const part = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (typeof node !== 'object' || node === null || !(part in node)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

function refsIn(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const n of node) refsIn(n, out);
  else if (typeof node === 'object' && node !== null) {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refsIn(v, out);
    }
  }
  return out;
}

describe('OpenAPI document', () => {
  it('documents every /api/v1 route the app serves, and only those', () => {
    const routes = served();
    expect(routes.length).toBeGreaterThan(40);
    expect(routes.filter((r) => !documented().includes(r))).toEqual([]);
    expect(documented().filter((d) => !routes.includes(d))).toEqual([]);
  });

  it('has the fields OpenAPI 3.1 requires, unique operation ids and declared path parameters', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.jsonSchemaDialect).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(doc.info.title).toBeTruthy();
    expect(doc.info.version).toMatch(/^\d+\.\d+\.\d+/);
    const ids = new Set<string>();
    const schemes = Object.keys(doc.components.securitySchemes);
    for (const [path, item] of Object.entries(doc.paths)) {
      expect(path).toMatch(/^\/api\/v1(\/|$)/);
      const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      for (const [method, op] of Object.entries(item)) {
        const where = `${method} ${path}`;
        expect(METHODS, where).toContain(method);
        expect(op.operationId, where).toMatch(/^[A-Za-z][A-Za-z0-9]*$/);
        expect(ids.has(op.operationId), `${where}: duplicate operationId`).toBe(false);
        ids.add(op.operationId);
        expect(op.summary, where).toBeTruthy();
        // Responses: at least one, keyed by an HTTP status, each with a description.
        expect(Object.keys(op.responses).length, where).toBeGreaterThan(0);
        for (const [status, r] of Object.entries(op.responses)) {
          expect(status, where).toMatch(/^[1-5]\d\d$/);
          expect(r.description, where).toBeTruthy();
        }
        // Every {param} of the template is a required path parameter, and no other path parameter exists.
        const pathParams = op.parameters.filter((p) => p.in === 'path');
        expect(pathParams.map((p) => p.name).sort(), where).toEqual([...templated].sort());
        for (const p of pathParams) expect(p.required, where).toBe(true);
        const keys = op.parameters.map((p) => `${p.in}:${p.name}`);
        expect(new Set(keys).size, `${where}: repeated parameter`).toBe(keys.length);
        for (const p of op.parameters) expect(typeof p.schema, where).toBe('object');
        for (const requirement of op.security)
          for (const scheme of Object.keys(requirement)) expect(schemes, where).toContain(scheme);
      }
    }
  });

  it('resolves every $ref inside the document', () => {
    const refs = refsIn(doc);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) expect(resolvePointer(doc, ref), ref).toBeDefined();
  });

  it('carries the validators: scopes, required fields and bounds as the schemas enforce them', () => {
    const push = doc.paths['/api/v1/usage']?.post;
    expect(push?.['x-keywatch-scope']).toBe('ingest');
    const batch = push?.requestBody?.content['application/json'].schema as {
      properties: {
        events: { maxItems: number; items: { required: string[]; additionalProperties: boolean } };
      };
    };
    expect(batch.properties.events.maxItems).toBe(10_000);
    expect(batch.properties.events.items.required.sort()).toEqual(['id', 'key']);
    expect(batch.properties.events.items.additionalProperties).toBe(false);
    const usage = doc.paths['/api/v1/keys/{id}/usage']?.get;
    const step = usage?.parameters.find((p) => p.name === 'step');
    expect(step).toMatchObject({ in: 'query', required: false, schema: { enum: ['minute', 'hour', 'day'] } });
    expect(usage?.parameters.some((p) => p.name === 'group')).toBe(false);
    expect(doc.paths['/api/v1/openapi.json']?.get?.security).toEqual([]);
  });

  it('lists as required exactly the fields a body without them is refused for', async () => {
    const token = await api.tokenFor('admin', 'ingest');
    let checked = 0;
    for (const [path, item] of Object.entries(doc.paths)) {
      if (path.includes('{')) continue; // needs an existing resource first
      for (const [method, op] of Object.entries(item)) {
        const schema = op.requestBody?.content['application/json'].schema as
          | { required?: string[] }
          | undefined;
        if (!schema?.required?.length) continue;
        const res = await api.call(method.toUpperCase(), path, token, {});
        expect(res.status, `${method} ${path}`).toBe(400);
        const named = (res.json.error.issues as { path: string }[]).map((i) => i.path.split('.')[0]);
        for (const field of schema.required) expect(named, `${method} ${path}`).toContain(field);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(6);
  });

  it('declares answers the routes really give', async () => {
    const token = await api.tokenFor('admin', 'ingest');
    const declared = (ops: ApiOperation[], method: string, path: string) => {
      const schema = ops.find((o) => o.method === method && o.path === path)?.response;
      if (!schema) throw new Error(`no answer schema declared for ${method} ${path}`);
      return schema;
    };
    const check = async (ops: ApiOperation[], method: string, path: string, url: string, body?: unknown) => {
      const res = await api.call(method.toUpperCase(), url, token, body);
      expect(res.status, `${method} ${url}`).toBeLessThan(300);
      const parsed = declared(ops, method, path).safeParse(res.json);
      expect(parsed.error?.issues ?? [], `${method} ${url}`).toEqual([]);
      return res.json;
    };
    const created = await check(keysApi, 'post', '/', '/api/v1/keys', {
      name: 'documented',
      secret: 'mhk_live_doc_1234',
    });
    await check(keysApi, 'get', '/', '/api/v1/keys');
    await check(keysApi, 'get', '/:id', `/api/v1/keys/${created.id}`);
    await check(keysApi, 'patch', '/:id', `/api/v1/keys/${created.id}`, { owner: 'docs' });
    const events = [{ id: 'evt_doc_1', key: 'documented', ts: T0 - 60_000, credits: 5 }];
    await check(pushApi, 'post', '/', '/api/v1/usage', { events });
    await check(keysApi, 'get', '/:id/usage', `/api/v1/keys/${created.id}/usage?step=minute`);
    await check(usageApi, 'get', '/', '/api/v1/usage?step=hour&group=key');
    await check(detectionApi, 'post', '/detect/run', '/api/v1/detect/run', {});
    await check(keysApi, 'post', '/:id/revoke', `/api/v1/keys/${created.id}/revoke`, {});
  });

  it('is public: no credentials needed to read it', async () => {
    const res = await api.app.request('/api/v1/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('set-cookie')).toBeNull();
  });
});

describe('API reference page', () => {
  it('lists every operation with its parameters and body fields, for a signed-in user', async () => {
    const { user } = await addUser(deps, { email: 'viewer@example.com', role: 'viewer' }, 'test');
    const { cookieValue } = await createSession(deps, user.id);
    const res = await api.app.request('/api-reference', { headers: { cookie: `kw_session=${cookieValue}` } });
    expect(res.status).toBe(200);
    const html = await res.text();
    for (const op of documented()) expect(html).toContain(op);
    expect(html).toContain('events[].credits');
    expect(html).toContain('href="/api/v1/openapi.json"');
    const settings = await api.app.request('/settings', { headers: { cookie: `kw_session=${cookieValue}` } });
    expect(await settings.text()).toContain('href="/api-reference"');
  });

  it('sends a visitor without a session to sign in', async () => {
    const res = await api.app.request('/api-reference');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toMatch(/^\/login/);
  });
});
