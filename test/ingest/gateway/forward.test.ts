import { afterEach, describe, expect, it } from 'vitest';
import { type FakeMagicHour, startFakeMagicHour } from '../../helpers/fake-magichour.ts';
import { send, stalledUpload, until } from '../../helpers/slow-client.ts';
import { type RunningApp, rows, startApp } from '../../helpers/sources.ts';
import { createTestDeps, type TestDeps } from '../../helpers/store.ts';

const KEY = 'mhk_live_forwardtest_cd34';
let fake: FakeMagicHour;
let deps: TestDeps;
let app: RunningApp;

async function setup(env: Record<string, string>) {
  fake = await startFakeMagicHour();
  fake.keys.add(KEY);
  deps = createTestDeps({ MAGICHOUR_BASE_URL: fake.url, ...env });
  app = await startApp(deps);
}

afterEach(async () => {
  await app.close();
  await fake.close();
  deps.cleanup();
});

const url = () => `${app.url}/gw/magichour/v1/face-swap`;
const eventCount = () => rows<{ n: number }>(deps, 'SELECT count(*) AS n FROM usage_events')[0]!.n;

describe('forwarding with slow and abandoned clients', () => {
  it('cancels the upstream request when the client leaves mid-upload, and meters nothing', async () => {
    await setup({ KEYWATCH_GATEWAY_BODY_IDLE_MS: '30000' });
    const upload = stalledUpload(url(), { key: KEY });
    await until(() => fake.open === 1, 'the upload to reach the upstream');
    upload.leave();
    // The upstream sees its request closed at once, not after some timeout.
    await until(() => fake.aborted.length === 1, 'the upstream request to be cancelled', 1_000);
    expect(fake.open).toBe(0);
    expect(fake.received).toEqual([]);
    await app.flush();
    expect(eventCount()).toBe(0);
  });

  it('answers 408 to a body that pauses too long and cancels the upstream request', async () => {
    await setup({ KEYWATCH_GATEWAY_BODY_IDLE_MS: '200' });
    const started = Date.now();
    const upload = stalledUpload(url(), { key: KEY });
    const answer = await upload.answer;
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(answer.status).toBe(408);
    expect(answer.headers.connection).toBe('close');
    expect(JSON.parse(answer.body)).toEqual({
      error: { code: 'body_timeout', message: 'The request body paused for more than 200 ms.' },
    });
    await until(() => fake.aborted.length === 1, 'the upstream request to be cancelled', 1_000);
    await app.flush();
    expect(eventCount()).toBe(0);
  });

  it('cuts off a body that keeps trickling past the request timeout, and cancels the upstream', async () => {
    await setup({
      KEYWATCH_GATEWAY_BODY_IDLE_MS: '30000',
      KEYWATCH_HEADERS_TIMEOUT_MS: '200',
      KEYWATCH_REQUEST_TIMEOUT_MS: '600',
    });
    const started = Date.now();
    // A byte every 50 ms: never idle, never done.
    const upload = stalledUpload(url(), { key: KEY, trickleMs: 50 });
    await until(() => fake.open === 1, 'the upload to reach the upstream');
    await until(() => fake.aborted.length === 1, 'the upstream request to be cancelled', 3_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(550);
    expect((await upload.answer).status).toBe(408);
    await app.flush();
    expect(eventCount()).toBe(0);
  });

  it('closes the upstream request when the upstream answers before the body is complete', async () => {
    await setup({ KEYWATCH_GATEWAY_BODY_IDLE_MS: '30000' });
    fake.troubleNext({ kind: 'answer-early' });
    const upload = stalledUpload(url(), { key: KEY });
    expect((await upload.answer).status).toBe(413);
    // The client still holds its upload open; the upstream connection must not wait on it.
    await until(
      () => fake.aborted.length === 1 && fake.open === 0,
      'the upstream request to be closed',
      1_000,
    );
    upload.leave();
    await app.flush();
    expect(eventCount()).toBe(1);
  });

  it('lets a body that keeps coming, however slowly, through', async () => {
    await setup({ KEYWATCH_GATEWAY_BODY_IDLE_MS: '250' });
    // 8 pieces 100 ms apart: 800 ms in all, far past the idle limit, never idle that long.
    const answer = await send(url(), {
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: '{"a":12}',
      drip: { everyMs: 100, pieces: 8 },
    });
    expect(answer.status).toBe(200);
    expect(fake.received[0]!.body.toString()).toBe('{"a":12}');
    await app.flush();
    expect(eventCount()).toBe(1);
  });
});
