/**
 * client_exposure: a key used from browsers, from web pages (Origin/Referer) or suddenly from many
 * unrelated networks is found, once; a server key is not, however long it runs.
 */
import { describe, expect, it } from 'vitest';
import { DAY, HOUR, MINUTE } from '../../../../server/clock.ts';
import { exposureNetworkOf } from '../../../../server/detection/core/detectors/client-exposure.ts';
import { createEpisodeBook, keySubject } from '../../../../server/detection/core/episodes.ts';
import { defaultRuleSet } from '../../../../server/detection/core/params.ts';
import { createKeyState } from '../../../../server/detection/core/state.ts';
import type { Finding } from '../../../../server/detection/core/types.ts';
import { constant, ctxFor, feed, START, type Traffic, warmKey } from '../../../helpers/detection.ts';

const CHROME =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const SERVER: Traffic[] = [
  { rate: constant(1), ip: '203.0.113.10' },
  { rate: constant(0.5), ip: '198.51.100.5', ua: 'magic-hour-python/0.39.0' },
];
const exposures = (fs: Finding[]) => fs.filter((f) => f.kind === 'client_exposure');

describe('client_exposure', () => {
  it('is silent for a server SDK key from 2 networks over a month', () => {
    const state = createKeyState(MINUTE);
    expect(exposures(feed(state, START, START + 30 * DAY, SERVER))).toEqual([]);
  });

  it('is silent for a fleet that always runs from many networks', () => {
    const fleet: Traffic[] = Array.from({ length: 30 }, (_, i) => ({
      rate: constant(0.1),
      ip: `100.${64 + i}.7.9`,
    }));
    const state = createKeyState(MINUTE);
    expect(exposures(feed(state, START, START + 14 * DAY, fleet))).toEqual([]);
  });

  it('fires on requests from a browser, naming it, once however long it goes on', () => {
    const { state, now } = warmKey(8, SERVER);
    const found = exposures(
      feed(state, now, now + 6 * HOUR, [...SERVER, { rate: constant(0.2), ua: CHROME }]),
    );
    expect(found).toHaveLength(1);
    expect(found[0]!.facts).toMatchObject({ browsers: ['Chrome 131 on macOS'], user_agents: [CHROME] });
    expect(found[0]!.unit).toBe('requests');
    expect(found[0]!.minSeverity).toBeUndefined();
  });

  it('fires on an Origin from the first request, even on a key still warming up, as critical', () => {
    const state = createKeyState(MINUTE);
    const found = exposures(
      feed(state, START, START + 2 * HOUR, [{ rate: constant(1), origin: 'https://shop.example.com' }]),
    );
    expect(found).toHaveLength(1);
    expect(found[0]!.at).toBeLessThan(START + 5 * 60_000);
    expect(found[0]!.minSeverity).toBe('critical');
    expect(found[0]!.facts).toMatchObject({ origins: ['https://shop.example.com'] });
  });

  it('reports a new origin again, and the same one only after repeat_hours', () => {
    const { state, now } = warmKey(8, SERVER);
    const a = { rate: constant(0.5), origin: 'https://a.example' };
    const first = exposures(feed(state, now, now + 3 * HOUR, [a]));
    const second = exposures(
      feed(state, now + 3 * HOUR, now + 4 * HOUR, [a, { rate: constant(0.5), origin: 'https://b.example' }]),
    );
    const later = exposures(feed(state, now + 25 * HOUR, now + 26 * HOUR, [a]));
    expect(first).toHaveLength(1);
    expect(second).toHaveLength(1);
    expect(second[0]!.facts!.origins).toEqual(expect.arrayContaining(['https://b.example']));
    expect(later).toHaveLength(1);
  });

  it('fires when a warm key is suddenly used from many unrelated networks', () => {
    const { state, now } = warmKey(8, SERVER);
    const app: Traffic[] = Array.from({ length: 30 }, (_, i) => ({
      rate: constant(0.02),
      ip: `${20 + i}.${i * 3}.9.${i}`,
    }));
    const found = exposures(feed(state, now, now + DAY, [...SERVER, ...app]));
    expect(found).toHaveLength(1);
    expect(found[0]!.unit).toBe('networks');
    expect(found[0]!.observed).toBeGreaterThanOrEqual(20);
    expect(found[0]!.expected).toBeLessThanOrEqual(2);
  });

  it('does not count networks during warm-up', () => {
    const state = createKeyState(MINUTE);
    const app: Traffic[] = Array.from({ length: 30 }, (_, i) => ({
      rate: constant(0.02),
      ip: `${20 + i}.1.9.1`,
    }));
    expect(exposures(feed(state, START, START + 2 * DAY, app))).toEqual([]);
  });

  it('joins the key’s episode as one signal, critical with an origin', () => {
    const { state, now } = warmKey(8, SERVER);
    const params = defaultRuleSet().params;
    const book = createEpisodeBook([]);
    const traffic = [...SERVER, { rate: constant(0.3), ua: CHROME, origin: 'https://shop.example.com' }];
    let episode = null as ReturnType<typeof book.apply>['episode'] | null;
    for (const f of feed(state, now, now + 4 * HOUR, traffic))
      episode = book.apply({ subject: keySubject('k1'), keyId: 'k1' }, f, params).episode;
    const signals = episode!.signals.filter((s) => s.kind === 'client_exposure');
    expect(signals).toHaveLength(1);
    expect(signals[0]!.severity).toBe('critical');
    expect(signals[0]!.facts).toMatchObject({
      origins: ['https://shop.example.com'],
      browsers: ['Chrome 131 on macOS'],
    });
  });

  it('stays quiet when disabled by rule', () => {
    const rules = defaultRuleSet();
    rules.enabled.client_exposure = false;
    const state = createKeyState(MINUTE);
    const ctx = ctxFor({}, rules);
    expect(exposures(feed(state, START, START + HOUR, [{ rate: constant(1), ua: CHROME }], ctx))).toEqual([]);
  });
});

describe('exposureNetworkOf', () => {
  it.each([
    ['203.0.113.77', '203.0.113.0/24'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['2001:db8:aa:bb::1', '2001:db8:aa:bb::/64'],
  ])('%s is in %s', (ip, net) => {
    expect(exposureNetworkOf(ip)).toBe(net);
  });
});
