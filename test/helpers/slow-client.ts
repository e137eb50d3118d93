/**
 * Clients over real HTTP on loopback that a fetch() cannot be: one that stalls mid-upload, one that
 * speaks from another local address (127.0.0.2 and up are loopback on Linux).
 */
import { type IncomingHttpHeaders, type IncomingMessage, request } from 'node:http';

export type Answer = { status: number; headers: IncomingHttpHeaders; body: string };

/**
 * Promises `promised` bytes, sends the first one and then nothing (or, with `trickleMs`, one more
 * every `trickleMs`, never done); `answer` resolves if the server answers.
 */
export function stalledUpload(
  url: string,
  opts: { key: string; localAddress?: string; promised?: number; trickleMs?: number },
): { answer: Promise<Answer>; answered: () => boolean; leave: () => void } {
  const req = request(url, {
    method: 'POST',
    agent: false,
    ...(opts.localAddress && { localAddress: opts.localAddress }),
    headers: {
      authorization: `Bearer ${opts.key}`,
      'content-type': 'application/json',
      'content-length': String(opts.promised ?? 100_000),
    },
  });
  req.on('error', () => {});
  req.write('{');
  const trickle = opts.trickleMs
    ? setInterval(() => (req.destroyed ? clearInterval(trickle) : req.write(' ')), opts.trickleMs)
    : undefined;
  req.on('close', () => clearInterval(trickle));
  let answered = false;
  const answer = new Promise<Answer>((resolve) => {
    req.on('response', (res) => {
      answered = true;
      void readAnswer(res).then(resolve, () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: '' }),
      );
    });
  });
  return { answer, answered: () => answered, leave: () => req.destroy() };
}

/** One whole request; `drip` sends the body a piece at a time, `everyMs` apart. */
export function send(
  url: string,
  opts: {
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    localAddress?: string;
    drip?: { everyMs: number; pieces: number };
    timeoutMs?: number;
  } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const body = Buffer.from(opts.body ?? '');
    const req = request(url, {
      method: opts.method ?? 'POST',
      agent: false,
      ...(opts.localAddress && { localAddress: opts.localAddress }),
      headers: { 'content-length': String(body.length), ...opts.headers },
      signal: AbortSignal.timeout(opts.timeoutMs ?? 5_000),
    });
    req.on('error', reject);
    req.on('response', (res) => readAnswer(res).then(resolve, reject));
    if (!opts.drip) {
      req.end(body);
      return;
    }
    const size = Math.ceil(body.length / opts.drip.pieces);
    let at = 0;
    const timer = setInterval(() => {
      req.write(body.subarray(at, at + size));
      at += size;
      if (at >= body.length) {
        clearInterval(timer);
        req.end();
      }
    }, opts.drip.everyMs);
  });
}

async function readAnswer(res: IncomingMessage): Promise<Answer> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') };
}

/** Polls `check` every 10 ms for at most `ms`; throws naming `what` when it never holds. */
export async function until(check: () => boolean, what: string, ms = 3_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
