/** Episodes: one per subject, its findings joined as signals, impact counted once per bucket. */
import { describe, expect, it } from 'vitest';
import {
  BURST_AFTERMATH_MS,
  createEpisodeBook,
  keySubject,
  leadSignal,
  summarizeEpisode,
} from '../../../server/detection/core/episodes.ts';
import { DEFAULT_PARAMS, type Params } from '../../../server/detection/core/params.ts';
import type { Finding } from '../../../server/detection/core/types.ts';

const params = DEFAULT_PARAMS as unknown as Params;
const MIN = 60_000;
const T = Date.UTC(2026, 10, 26, 16, 0);
const key = { subject: keySubject('k1'), keyId: 'k1' };

function finding(
  kind: Finding['kind'],
  at: number,
  bucketImpact: number,
  extra: Partial<Finding> = {},
): Finding {
  return {
    kind,
    at,
    window: { from: at, to: at + MIN },
    unit: 'credits',
    observed: 100,
    expected: 10,
    low: 0,
    high: 20,
    method: 'test',
    score: 0.9,
    bucketImpact,
    windowImpact: bucketImpact,
    ...extra,
  };
}

describe('episode book', () => {
  it('joins every kind that fires on a key while its episode is open as signals of one episode', () => {
    const book = createEpisodeBook([]);
    expect(book.apply(key, finding('new_source', T, 0), params).type).toBe('opened');
    expect(book.apply(key, finding('credit_spike', T + MIN, 1_200), params).type).toBe('updated');
    const change = book.apply(key, finding('operation_mix', T + MIN, 1_000), params);
    expect(change.type).toBe('updated');
    const e = change.episode;
    expect(e.signals.map((s) => s.kind)).toEqual(['new_source', 'credit_spike', 'operation_mix']);
    // Both signals saw the same bucket: its excess counts once (the larger), not 2,200.
    expect(e.impact).toBe(1_200);
    const view = summarizeEpisode(e);
    expect(view.startedAt).toBe(T);
    expect(view.detectedAt).toBe(T + MIN);
    expect(view.lastSeenAt).toBe(T + 2 * MIN);
    // The most severe signal names it; a tie goes to the earliest.
    expect(leadSignal(e).kind).toBe('credit_spike');
    expect(view.severity).toBe('warning');
  });

  it('keeps other subjects apart and resolves an episode after its quiet period', () => {
    const book = createEpisodeBook([]);
    book.apply(key, finding('credit_spike', T, 600), params);
    const other = book.apply(
      { subject: keySubject('k2'), keyId: 'k2' },
      finding('credit_spike', T, 600),
      params,
    );
    expect(other.type).toBe('opened');
    // A burst's episode waits out its aftermath too, so a slower signal of the same rise joins it.
    const quiet = params.baseline.quiet_minutes * MIN;
    const end = T + MIN + quiet + BURST_AFTERMATH_MS;
    expect(book.due(end - 1, () => quiet)).toHaveLength(0);
    expect(book.due(end, () => quiet).map((e) => e.keyId)).toEqual(['k1', 'k2']);
    expect(book.apply(key, finding('credit_spike', end + MIN, 600), params).type).toBe('opened');
  });

  it('collects the unknown keys of a network subject, a bounded few', () => {
    const book = createEpisodeBook([]);
    let last = null;
    for (let i = 0; i < 30; i++) {
      last = book.apply(
        { subject: 'network:203.0.113.0/24', keyId: null, member: `key_${i}` },
        finding('discovered_key', T + i * MIN, 0),
        params,
      );
    }
    expect(last!.episode.members).toHaveLength(20);
    expect(last!.episode.signals).toHaveLength(1);
  });
});
