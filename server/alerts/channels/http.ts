/** Posting one JSON message to a channel's endpoint, and what its answer means for the outbox. */

/** The `fetch` a sender is given (the global one in production, the same against fakes in tests). */
export type Fetch = typeof fetch;

/** Longest wait for an endpoint's answer; a hanging endpoint is retried like one that is down. */
export const POST_TIMEOUT_MS = 10_000;

/** A failed delivery: `retry` for 429, 5xx and network errors; a 4xx answer is final. */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly retry: boolean,
  ) {
    super(message);
  }
}

/**
 * POSTs `body` and resolves on 2xx. Error messages name the status and the start of the answer,
 * never the URL: a Slack webhook URL is itself a credential.
 */
export async function postJson(
  fetchFn: Fetch,
  url: string,
  body: string,
  headers: Record<string, string> = {},
  timeoutMs = POST_TIMEOUT_MS,
): Promise<void> {
  let res: Response;
  try {
    res = await fetchFn(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'Keywatch', ...headers },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new DeliveryError(`network error: ${describeNetworkError(err)}`, true);
  }
  const answer = (await res.text().catch(() => '')).replace(/\s+/g, ' ').slice(0, 200);
  if (res.status >= 200 && res.status < 300) return;
  const retry = res.status === 429 || res.status >= 500;
  throw new DeliveryError(`HTTP ${res.status}${answer ? `: ${answer}` : ''}`, retry);
}

function describeNetworkError(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') return 'no answer in time';
  return e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err);
}
