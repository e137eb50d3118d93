import { sql } from 'drizzle-orm';
import { Hono } from 'hono';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fakeClock } from '../../../server/clock.ts';
import { rows } from '../../../server/db/transaction.ts';
import type { AppError } from '../../../server/errors.ts';
import { magicHour } from '../../../server/ingest/providers/magichour.ts';
import { receiveWebhook } from '../../../server/ingest/webhooks/receive.ts';
import {
  signPayload,
  verifyWebhookSignature,
  type WebhookEnv,
} from '../../../server/ingest/webhooks/verify.ts';
import { recordEvents } from '../../../server/usage/record-events.ts';
import { createTestApi } from '../../helpers/api.ts';
import { createTestDeps, forEachStore, T0, type TestDeps } from '../../helpers/store.ts';
import { pushedEvent, recordUsage } from '../../helpers/usage.ts';

/** A text-to-video project of prod-web, pushed with its project id when it was created. */
const projectEvent = (id: string, credits: number, createdAt: number) =>
  pushedEvent('prod-web', `e-${id}`, createdAt, credits, { operation: 'text-to-video', projectId: id });

// The vector from the issue (and Magic Hour's docs).
const VECTOR = {
  secret: 'test_webhook_secret',
  timestamp: '1729314984',
  body: '{"type":"image.completed","payload":{"id":"clx8abc123def456ghi789","status":"complete","credits_charged":5}}',
  signature: 'c176e8b841913cb92374363a1863249bdc3e9ebc9a00cb1121647cb3336c4ed9',
};

describe('webhook signature middleware (on a throwaway app)', () => {
  const clock = fakeClock(Number(VECTOR.timestamp) * 1000 + 30_000);
  const rejects: string[] = [];
  const app = new Hono<WebhookEnv>()
    .onError((err, c) => c.json({ code: (err as AppError).code }, (err as AppError).status as 401))
    .post(
      '/hook',
      verifyWebhookSignature({
        secret: VECTOR.secret,
        clock,
        signatureHeader: 'magic-hour-event-signature',
        timestampHeader: 'magic-hour-event-timestamp',
        onReject: (r) => rejects.push(r),
      }),
      (c) => c.json({ raw: c.get('rawBody') }),
    );
  const send = (body: string, ts: string, sig: string) =>
    app.request('/hook', {
      method: 'POST',
      body,
      headers: { 'magic-hour-event-timestamp': ts, 'magic-hour-event-signature': sig },
    });

  it('computes the documented signature', () => {
    expect(signPayload(VECTOR.secret, VECTOR.timestamp, VECTOR.body)).toBe(VECTOR.signature);
  });

  it('accepts the vector and hands the raw body on', async () => {
    const res = await send(VECTOR.body, VECTOR.timestamp, VECTOR.signature);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ raw: VECTOR.body });
  });

  it('rejects any change to the body, timestamp, signature or secret', async () => {
    const before = rejects.length;
    const tampered = [
      send(
        VECTOR.body.replace('"credits_charged":5', '"credits_charged":6'),
        VECTOR.timestamp,
        VECTOR.signature,
      ),
      send(`${VECTOR.body} `, VECTOR.timestamp, VECTOR.signature),
      send(VECTOR.body, String(Number(VECTOR.timestamp) + 1), VECTOR.signature),
      send(VECTOR.body, VECTOR.timestamp, VECTOR.signature.replace(/.$/, '0')),
      send(VECTOR.body, VECTOR.timestamp, signPayload('test_webhook_secreT', VECTOR.timestamp, VECTOR.body)),
      send(VECTOR.body, VECTOR.timestamp, ''),
      send(VECTOR.body, '', VECTOR.signature),
    ];
    for (const res of await Promise.all(tampered)) expect(res.status).toBe(401);
    expect(rejects.length - before).toBe(tampered.length);
  });

  it('rejects a correctly signed event outside the 300 s window', async () => {
    clock.set(Number(VECTOR.timestamp) * 1000 + 301_000);
    expect((await send(VECTOR.body, VECTOR.timestamp, VECTOR.signature)).status).toBe(401);
    clock.set(Number(VECTOR.timestamp) * 1000 - 301_000);
    expect((await send(VECTOR.body, VECTOR.timestamp, VECTOR.signature)).status).toBe(401);
    clock.set(Number(VECTOR.timestamp) * 1000 + 299_000);
    expect((await send(VECTOR.body, VECTOR.timestamp, VECTOR.signature)).status).toBe(200);
  });
});

describe('POST /webhooks/magichour', () => {
  const SECRET = 'whsec_keywatch_test';
  let deps: TestDeps;
  let api: ReturnType<typeof createTestApi>;

  beforeEach(() => {
    deps = createTestDeps({ MAGICHOUR_WEBHOOK_SECRET: SECRET });
    api = createTestApi(deps);
  });
  afterEach(() => deps.cleanup());

  const post = (event: unknown, secret = SECRET) => {
    const body = JSON.stringify(event);
    const ts = String(Math.floor(deps.clock.now() / 1000));
    return api.app.request('/webhooks/magichour', {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        'magic-hour-event-timestamp': ts,
        'magic-hour-event-signature': signPayload(secret, ts, body),
      },
    });
  };
  const createdAt = T0 - 10 * 60_000;
  /** A project created through a known path (push with project_id), 120 credits estimated. */
  const pushProject = (id: string, credits = 120) =>
    recordEvents(deps, [projectEvent(id, credits, createdAt)]);
  const keyCredits = () =>
    (deps.sqlite.prepare('SELECT sum(credits) AS c FROM usage_hour').get() as { c: number | null }).c;
  const completed = (id: string, credits: number, kind = 'video') => ({
    type: `${kind}.completed`,
    payload: {
      id,
      status: 'complete',
      credits_charged: credits,
      created_at: new Date(createdAt).toISOString(),
    },
  });

  it('sets the final credits on the key that created the project, once', async () => {
    pushProject('clvideo1');
    expect(keyCredits()).toBe(120);
    const res = await post(completed('clvideo1', 96));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ received: true, duplicate: false, outcome: 'attributed' });
    expect(keyCredits()).toBe(96);
    // At-least-once delivery: the same event again changes nothing.
    expect(await (await post(completed('clvideo1', 96))).json()).toMatchObject({ duplicate: true });
    expect(keyCredits()).toBe(96);
    // The correction lands in the project's creation bucket, for the operation that created it.
    expect(deps.sqlite.prepare('SELECT bucket, operation, credits FROM usage_minute').all()).toEqual([
      { bucket: createdAt, operation: 'text-to-video', credits: 96 },
    ]);
    expect(deps.sqlite.prepare('SELECT final_credits, status FROM projects').get()).toEqual({
      final_credits: 96,
      status: 'complete',
    });
  });

  it('refunds an errored project on its key', async () => {
    pushProject('clvideo2', 200);
    await post({ type: 'video.errored', payload: { id: 'clvideo2', status: 'error', credits_charged: 200 } });
    expect(keyCredits()).toBe(0);
  });

  it('stores a project no key created as unattributed spend', async () => {
    const res = await post(completed('clorphan', 45, 'image'));
    expect(await res.json()).toMatchObject({ outcome: 'unattributed' });
    expect(
      deps.sqlite.prepare('SELECT ts, source, credits, project_id FROM unattributed_spend').all(),
    ).toEqual([{ ts: createdAt, source: 'webhook', credits: 45, project_id: 'clorphan' }]);
    expect(deps.sqlite.prepare('SELECT key_id, kind, final_credits FROM projects').get()).toEqual({
      key_id: null,
      kind: 'image',
      final_credits: 45,
    });
    expect(keyCredits()).toBeNull();
    const read = await api.tokenFor('read');
    const balance = await api.call('GET', '/api/v1/balance', read);
    expect(balance.json.unattributed_credits_30d).toBe(45);
  });

  it("gives an unattributed project back to its key when the key's late event arrives", async () => {
    await post(completed('cllate', 96));
    expect(deps.sqlite.prepare('SELECT count(*) AS n FROM unattributed_spend').get()).toEqual({ n: 1 });
    pushProject('cllate', 120);
    expect(deps.sqlite.prepare('SELECT count(*) AS n FROM unattributed_spend').get()).toEqual({ n: 0 });
    expect(keyCredits()).toBe(96);
    expect(
      deps.sqlite.prepare('SELECT key_id IS NOT NULL AS owned, final_credits FROM projects').get(),
    ).toEqual({
      owned: 1,
      final_credits: 96,
    });
  });

  it('keeps every acknowledged event, including ones it does not act on', async () => {
    await post({ type: 'video.started', payload: { id: 'clstart', status: 'queued' } });
    await post({ type: 'audio.something_new', payload: { id: 'clnew' } });
    expect(
      deps.sqlite.prepare('SELECT type, object_id, outcome FROM webhook_events ORDER BY id').all(),
    ).toEqual([
      { type: 'video.started', object_id: 'clstart', outcome: 'ignored' },
      { type: 'audio.something_new', object_id: 'clnew', outcome: 'ignored' },
    ]);
  });

  it('answers 401 to a wrong signature and stores nothing', async () => {
    const res = await post(completed('clx', 5), 'not-the-secret');
    expect(res.status).toBe(401);
    expect((await res.json()).error.code).toBe('unauthorized');
    expect(deps.sqlite.prepare('SELECT count(*) AS n FROM webhook_events').get()).toEqual({ n: 0 });
    const sources = await api.call('GET', '/api/v1/sources', await api.tokenFor('read'));
    const hooks = sources.json.sources.find((s: { name: string }) => s.name === 'webhooks');
    expect(hooks).toMatchObject({ status: 'error', errors_last_hour: 1, events_last_hour: 0 });
  });

  it('answers 400 to a signed body that is not an event', async () => {
    const res = await post({ hello: 'world' });
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe('validation_failed');
  });
});

describe('POST /webhooks/magichour without a secret', () => {
  it('is refused with 503 rather than accepted unverified', async () => {
    const deps = createTestDeps();
    const res = await createTestApi(deps).app.request('/webhooks/magichour', { method: 'POST', body: '{}' });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('webhooks_disabled');
    deps.cleanup();
  });
});

forEachStore((kind, open) => {
  describe(`project bookkeeping of webhooks on ${kind}`, () => {
    let deps: TestDeps;
    beforeEach(async () => {
      deps = await open();
    });
    afterEach(() => deps.cleanup());

    const provider = { id: magicHour.id, webhooks: magicHour.webhooks! };
    const createdAt = T0 - 10 * 60_000;
    const pushed = (id: string, credits: number) => projectEvent(id, credits, createdAt);
    const completed = (id: string, credits: number) =>
      JSON.stringify({
        type: 'video.completed',
        payload: {
          id,
          status: 'complete',
          credits_charged: credits,
          created_at: new Date(createdAt).toISOString(),
        },
      });
    const hourCredits = async () =>
      (await rows<{ c: number | null }>(deps.db, sql`SELECT sum(credits) AS c FROM usage_hour`))[0]?.c ??
      null;
    const unattributed = async () =>
      (await rows<{ n: number }>(deps.db, sql`SELECT count(*) AS n FROM unattributed_spend`))[0]?.n;

    it('books final credits on the creating key once, and gives an orphan back to its key', async () => {
      await recordUsage(deps, [pushed('clv1', 120)]);
      expect(await receiveWebhook(deps, provider, completed('clv1', 96), createdAt)).toEqual({
        duplicate: false,
        outcome: 'attributed',
      });
      expect(await hourCredits()).toBe(96);
      expect(await receiveWebhook(deps, provider, completed('clv1', 96), createdAt)).toEqual({
        duplicate: true,
        outcome: null,
      });
      expect(await hourCredits()).toBe(96);

      expect((await receiveWebhook(deps, provider, completed('clorphan', 45), createdAt)).outcome).toBe(
        'unattributed',
      );
      expect(await unattributed()).toBe(1);
      // The key's own event arrives after the webhook: the project is the key's, booked at 45.
      await recordUsage(deps, [pushed('clorphan', 120)]);
      expect(await unattributed()).toBe(0);
      expect(await hourCredits()).toBe(96 + 45);
    });
  });
});
