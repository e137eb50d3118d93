/**
 * A fake Magic Hour API on 127.0.0.1 that answers like the real one: create endpoints return
 * `{id, credits_charged, ...}`, GET project returns the project, bad keys get
 * 401 {"message":"Unauthorized"}, and a test can make the next answer a 402, 422, 429, a slow
 * answer, a dropped connection, or a 413 given before the request body has arrived.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';

export type Trouble =
  | { kind: 'status'; status: 402 | 422 | 429 | 500 }
  | { kind: 'slow'; ms: number }
  | { kind: 'drop' }
  | { kind: 'drop-mid-body' }
  /** Answers 413 on the headers alone, without waiting for the body (as some servers do). */
  | { kind: 'answer-early' };

export type Received = { method: string; path: string; headers: IncomingMessage['headers']; body: Buffer };

type Project = {
  id: string;
  kind: 'image' | 'video' | 'audio';
  estimate: number;
  final: number;
  created: string;
};

const MESSAGES: Record<number, string> = {
  402: 'Payment required',
  422: 'Unprocessable entity: end_seconds must be a number',
  429: 'Too many requests',
  500: 'Internal server error',
};

export type FakeMagicHour = {
  url: string;
  received: Received[];
  projects: Map<string, Project>;
  /** Keys the fake accepts; anything else gets a 401. */
  keys: Set<string>;
  /** The next request gets this trouble instead of a normal answer. */
  troubleNext(t: Trouble): void;
  /**
   * The account endpoint: a balance (with the tier and subscription the real API reports;
   * subscription null or absent for free, pack-only and usage-based accounts), or a status like
   * 404 when the endpoint does not exist.
   */
  account: { balance: number; tier?: string; subscription?: FakeSubscription | null } | { status: number };
  gzip: boolean;
  /** Extra headers on every answer (say, a Set-Cookie or an HTML content type). */
  extraHeaders: Record<string, string>;
  /** Requests whose headers arrived and whose body has not ended yet (stalled uploads show here). */
  open: number;
  /** Paths of requests whose sender (the gateway) closed the connection before the body ended. */
  aborted: string[];
  close(): Promise<void>;
};

/** `subscription` of GET /v1/account as the SDKs' reference describes it. */
export type FakeSubscription = {
  name: string;
  status: string;
  billing_interval: 'month' | 'year';
  current_period_end: string;
  cancel_at_period_end: boolean;
  price: { amount: number; currency: string };
  discount: { amount_off: number | null; percent_off: number | null } | null;
};

/** A monthly plan renewing at `periodEnd` (ISO), $12.00 a month, unless `over` says otherwise. */
export const fakeSubscription = (
  periodEnd: string,
  over: Partial<FakeSubscription> = {},
): FakeSubscription => ({
  name: 'Creator',
  status: 'active',
  billing_interval: 'month',
  current_period_end: periodEnd,
  cancel_at_period_end: false,
  price: { amount: 1_200, currency: 'usd' },
  discount: null,
  ...over,
});

const cuid = () => `cl${randomBytes(12).toString('hex').slice(0, 23)}`;

/** Credits like the real API's magnitudes: 5 per image, 24 per second of video at creation. */
function estimate(operation: string, body: Record<string, unknown>): number {
  if (operation === 'ai-image-generator') return 5 * Number(body.image_count ?? 1);
  if (operation === 'text-to-video') return 24 * Number(body.end_seconds ?? 5);
  return 10;
}

const kindOf = (op: string): Project['kind'] =>
  op.includes('image') || op.includes('headshot') || op.includes('photo')
    ? 'image'
    : op.includes('voice')
      ? 'audio'
      : 'video';

export async function startFakeMagicHour(): Promise<FakeMagicHour> {
  const received: Received[] = [];
  const projects = new Map<string, Project>();
  const troubles: Trouble[] = [];
  const sockets = new Set<import('node:net').Socket>();
  const fake = {
    received,
    projects,
    keys: new Set<string>(),
    account: { balance: 100_000 } as FakeMagicHour['account'],
    gzip: false,
    extraHeaders: {} as Record<string, string>,
    open: 0,
    aborted: [] as string[],
    troubleNext: (t: Trouble) => void troubles.push(t),
  };

  const server: Server = createServer(async (req, res) => {
    if (troubles[0]?.kind === 'answer-early') {
      troubles.shift();
      fake.open++;
      // The request is no longer the server's once answered; its connection tells when it ends.
      req.socket.once('close', () => {
        fake.open--;
        if (!req.complete) fake.aborted.push(req.url ?? '');
      });
      res.writeHead(413, { 'content-type': 'application/json' }).end('{"message":"Payload too large"}');
      return;
    }
    const chunks: Buffer[] = [];
    fake.open++;
    try {
      for await (const c of req) chunks.push(c as Buffer);
    } catch {
      // The reader throws when the connection closes mid-body.
    } finally {
      fake.open--;
    }
    if (!req.complete) {
      fake.aborted.push(req.url ?? '');
      return;
    }
    const body = Buffer.concat(chunks);
    const path = (req.url ?? '/').split('?')[0]!;
    received.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });

    const send = (status: number, json: unknown) => {
      let payload: Buffer = Buffer.from(JSON.stringify(json));
      const headers: Record<string, string | number> = {
        'content-type': 'application/json',
        'x-fake': 'magichour',
        ...fake.extraHeaders,
      };
      if (fake.gzip && String(req.headers['accept-encoding'] ?? '').includes('gzip')) {
        payload = gzipSync(payload);
        headers['content-encoding'] = 'gzip';
      }
      headers['content-length'] = payload.length;
      res.writeHead(status, headers).end(payload);
    };

    const trouble = troubles.shift();
    if (trouble?.kind === 'drop') return req.socket.destroy();
    if (trouble?.kind === 'slow') await new Promise((r) => setTimeout(r, trouble.ms));
    if (trouble?.kind === 'drop-mid-body') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 1000 });
      res.write('{"id":"partial",');
      setTimeout(() => req.socket.destroy(), 20);
      return;
    }
    if (trouble?.kind === 'status') return send(trouble.status, { message: MESSAGES[trouble.status] });

    const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (path === '/v1/account') {
      if ('status' in fake.account) return send(fake.account.status, { message: 'Not found' });
      if (!token || !fake.keys.has(token)) return send(401, { message: 'Unauthorized' });
      const { balance, tier, subscription } = fake.account;
      return send(200, {
        credits: balance,
        id: 'acct_fake',
        email: 'owner@example.com',
        tier: tier ?? (subscription ? 'creator' : 'free'),
        subscription: subscription ?? null,
      });
    }
    if (!token || !fake.keys.has(token)) return send(401, { message: 'Unauthorized' });

    const project = /^\/v1\/(image|video|audio)-projects\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && project) {
      const p = projects.get(project[2]!);
      if (!p) return send(404, { message: 'Not found' });
      return send(200, projectBody(p));
    }
    const create = /^\/v1\/([a-z0-9-]+)$/.exec(path);
    if (req.method === 'POST' && create) {
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(body.toString('utf8') || '{}');
      } catch {
        return send(400, { message: 'Invalid JSON' });
      }
      const op = create[1]!;
      if (op === 'text-to-video' && typeof parsed.end_seconds !== 'number')
        return send(422, { message: MESSAGES[422] });
      const credits = estimate(op, parsed);
      const p: Project = {
        id: cuid(),
        kind: kindOf(op),
        estimate: credits,
        // Video is estimated at 30 fps and corrected at completion; images cost what was charged.
        final: kindOf(op) === 'video' ? Math.round(credits * 0.8) : credits,
        created: new Date().toISOString(),
      };
      projects.set(p.id, p);
      return send(200, {
        id: p.id,
        credits_charged: credits,
        frame_cost: credits,
        estimated_frame_cost: credits,
      });
    }
    return send(404, { message: 'Not found' });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(fake, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  });
}

function projectBody(p: Project) {
  const common = {
    id: p.id,
    name: null,
    status: 'complete',
    type: p.kind === 'image' ? 'AI_IMAGE' : 'TEXT_TO_VIDEO',
    created_at: p.created,
    enabled: true,
    credits_charged: p.final,
    total_frame_cost: p.final,
    error: null,
    downloads: [],
  };
  if (p.kind === 'image') return { ...common, image_count: 1 };
  return {
    ...common,
    start_seconds: 0,
    end_seconds: 5,
    fps: 30,
    height: 720,
    width: 1280,
    download: null,
  };
}
