import { readFileSync } from 'node:fs';
import magicHourSdk from 'magic-hour';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../server/log.ts';
import { type FakeMagicHour, startFakeMagicHour } from '../../helpers/fake-magichour.ts';
import { type RunningApp, rows, startApp } from '../../helpers/sources.ts';
import { createTestDeps, type TestDeps } from '../../helpers/store.ts';

// The SDK is CommonJS: Node's ESM loader puts its class at `.default`, Vite's interop at the top.
type ClientClass = typeof magicHourSdk.default;
const Client: ClientClass =
  (magicHourSdk as unknown as { default?: ClientClass }).default ?? (magicHourSdk as unknown as ClientClass);

const TOKEN = 'mhk_live_e2eSecretToken0123456789xYz7';
let fake: FakeMagicHour;
let deps: TestDeps;
let app: RunningApp;
const logLines: string[] = [];

beforeAll(async () => {
  fake = await startFakeMagicHour();
  fake.keys.add(TOKEN);
  deps = createTestDeps({ MAGICHOUR_BASE_URL: fake.url });
  // Capture every log line at the most verbose level, to prove the token is never in them.
  deps.log = createLogger('debug', (line) => logLines.push(line));
  app = await startApp(deps);
});
afterAll(async () => {
  await app.close();
  await fake.close();
  deps.cleanup();
});

describe('the official magic-hour SDK through the gateway', () => {
  it('creates an image and a video project; the key shows up with its last 4 and credits', async () => {
    const client = new Client({ token: TOKEN, baseUrl: `${app.url}/gw/magichour` });
    const image = await client.v1.aiImageGenerator.create({
      imageCount: 2,
      orientation: 'square',
      style: { prompt: 'a lighthouse at dusk' },
    });
    expect(image.creditsCharged).toBe(10);
    const video = await client.v1.textToVideo.create({
      endSeconds: 5,
      orientation: 'landscape',
      style: { prompt: 'waves' },
    });
    expect(video.creditsCharged).toBe(120);
    const finished = await client.v1.videoProjects.get({ id: video.id });
    expect(finished.status).toBe('complete');
    expect(finished.creditsCharged).toBe(96);
    const imageProject = await client.v1.imageProjects.get({ id: image.id });
    expect(imageProject.creditsCharged).toBe(10);
    await app.flush();

    const keys = rows<{ id: string; name: string; last4: string; status: string }>(
      deps,
      'SELECT * FROM keys',
    );
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ last4: 'xYz7', name: 'discovered-xYz7', status: 'discovered' });
    const byOperation = rows<{ operation: string; credits: number; requests: number }>(
      deps,
      'SELECT operation, sum(credits) AS credits, sum(requests) AS requests FROM usage_day WHERE key_id = ? GROUP BY operation ORDER BY operation',
      keys[0]!.id,
    );
    expect(byOperation).toEqual([
      { operation: 'ai-image-generator', credits: 10, requests: 1 },
      { operation: 'image-projects', credits: 0, requests: 1 },
      { operation: 'text-to-video', credits: 96, requests: 1 },
      { operation: 'video-projects', credits: 0, requests: 1 },
    ]);
    expect(rows(deps, 'SELECT id, key_id, final_credits FROM projects ORDER BY estimated_credits')).toEqual([
      { id: image.id, key_id: keys[0]!.id, final_credits: 10 },
      { id: video.id, key_id: keys[0]!.id, final_credits: 96 },
    ]);
  });

  it('never writes the token to the database file, its WAL or the logs', async () => {
    await app.close();
    app = await startApp(deps);
    deps.sqlite.pragma('wal_checkpoint(PASSIVE)');
    const secretPart = TOKEN.slice('mhk_live_'.length);
    let everything = Buffer.alloc(0);
    for (const file of [deps.dbPath, `${deps.dbPath}-wal`]) {
      let bytes: Buffer;
      try {
        bytes = readFileSync(file);
      } catch {
        continue;
      }
      everything = Buffer.concat([everything, bytes]);
      expect(bytes.includes(secretPart)).toBe(false);
      expect(bytes.includes(Buffer.from(secretPart, 'utf16le'))).toBe(false);
    }
    // The files really hold the recorded key (so the search above looked at live data).
    expect(everything.includes('discovered-xYz7')).toBe(true);
    expect(everything.includes(secretPart)).toBe(false);
    expect(logLines.some((l) => l.includes('gateway request'))).toBe(true);
    expect(logLines.join('\n')).not.toContain(secretPart);
  });
});
