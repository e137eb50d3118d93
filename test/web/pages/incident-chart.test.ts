/**
 * The incident chart plots what the detector judged: buckets as long as its window, in its unit,
 * with its usual range per bucket; so normal minutes never sit above an hourly "expected".
 */
import { describe, expect, it } from 'vitest';
import type { IncidentView } from '../../../server/incidents/view.ts';
import { incidentSeries } from '../../../web/client/lib/incident-series.ts';
import { chartNote, incidentChartSpec } from '../../../web/pages/incident-chart.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const T = Date.UTC(2026, 10, 26, 10, 0);
const iso = (t: number) => new Date(t).toISOString();

const incident = (over: Partial<IncidentView>, details: IncidentView['details']): IncidentView =>
  ({
    id: 'inc_1',
    key_id: 'key_1',
    kind: 'credit_spike',
    severity: 'critical',
    started_at: iso(T),
    last_seen_at: iso(T + 2 * HOUR),
    expected: 0,
    ...over,
    details,
  }) as IncidentView;

const spike = incident(
  {},
  {
    unit: 'credits',
    window: { from: iso(T), to: iso(T + 2 * HOUR) },
    peak_window: { from: iso(T + 30 * MIN + 7 * MIN), to: iso(T + 52 * MIN) },
    baseline: {
      expected: 1_200,
      low: 800,
      high: 1_700,
      method: 'usual range for 15 minutes at this time of the week',
    },
  },
);

const specOf = (i: IncidentView) => {
  const spec = incidentChartSpec(i);
  if (!spec) throw new Error('no chart');
  return spec;
};

describe('incident chart spec', () => {
  it('plots a spike in buckets as long as the judged window, the judged window being one bucket', () => {
    const spec = specOf(spike);
    expect(spec.bucket_ms).toBe(15 * MIN);
    expect(spec.step).toBe('minute');
    expect(spec.field).toBe('credits');
    expect(spec.axis_title).toBe('Credits per 15 minutes');
    expect([spec.expected, spec.low, spec.high]).toEqual([1_200, 800, 1_700]);
    expect((T + 37 * MIN - spec.from) % spec.bucket_ms).toBe(0);
    expect(spec.from).toBeLessThan(T);
    expect(spec.to).toBeGreaterThan(T + 2 * HOUR);
    expect(chartNote(spec)).toBe(
      'Each point is 15 minutes of credits, as the detector judged them. Shaded: Usual range for 15 minutes at this time of the week. The incident window is marked in red.',
    );
  });

  it('sums minutes into those buckets, so the judged bucket holds what the detector observed', () => {
    const spec = specOf(spike);
    const points = Array.from({ length: (spec.to - spec.from) / MIN }, (_, k) => {
      const t = spec.from + k * MIN;
      const inPeak = t >= T + 37 * MIN && t < T + 52 * MIN;
      return { ts: iso(t), credits: inPeak ? 100 : 80, requests: 1, auth_failures: 0 };
    });
    const s = incidentSeries(points, spec);
    const peak = s.starts.indexOf(T + 37 * MIN);
    expect(s.values[peak]).toBe(1_500);
    expect(s.values[0]).toBe(1_200);
    expect(s.judged[peak]).toBe(true);
    expect(s.judged[0]).toBe(false);
  });

  it('shows a sustained rise hour by hour, with the usual amounts per hour', () => {
    const spec = specOf(
      incident(
        { kind: 'sustained_elevation', last_seen_at: iso(T + 30 * HOUR) },
        {
          unit: 'credits',
          window: { from: iso(T), to: iso(T + 30 * HOUR) },
          peak_window: { from: iso(T), to: iso(T + 30 * HOUR) },
          baseline: {
            expected: 30_000,
            low: 27_000,
            high: 33_000,
            method: 'usual range for these hours of the week',
          },
        },
      ),
    );
    expect(spec.bucket_ms).toBe(HOUR);
    expect(spec.step).toBe('hour');
    expect(spec.axis_title).toBe('Credits per hour');
    expect([spec.expected, spec.low, spec.high]).toEqual([1_000, 900, 1_100]);
    expect(spec.band_label).toBe('Usual range for these hours of the week, per hour on average');
  });

  it('fetches minutes when the judged hour does not start on the hour, so nothing is shifted', () => {
    const spec = specOf(
      incident(
        {},
        {
          unit: 'credits',
          peak_window: { from: iso(T + 42 * MIN), to: iso(T + HOUR + 42 * MIN) },
          baseline: { expected: 467, low: 262, high: 672 },
        },
      ),
    );
    expect([spec.bucket_ms, spec.step, spec.axis_title]).toEqual([HOUR, 'minute', 'Credits per hour']);
    expect(Math.abs((spec.from - (T + 42 * MIN)) % HOUR)).toBe(0);
  });

  it('counts rejected requests for a burst of authentication failures', () => {
    const spec = specOf(
      incident(
        { kind: 'auth_failures' },
        {
          unit: 'auth_failures',
          peak_window: { from: iso(T), to: iso(T + 10 * MIN) },
          baseline: { expected: 0.2, low: 0, high: 1.5 },
        },
      ),
    );
    expect(spec.field).toBe('auth_failures');
    expect(spec.axis_title).toBe('Rejected requests per 10 minutes');
  });

  it('plots a budget day by day, with no usual band', () => {
    const spec = specOf(incident({ kind: 'budget_threshold', expected: 400_000 }, { unit: 'credits' }));
    expect(spec.bucket_ms).toBe(24 * HOUR);
    expect(spec.expected).toBeNull();
    expect(chartNote(spec)).toBe('Each point is one day of credits. The incident window is marked in red.');
  });

  it('draws nothing misleading when no usage series holds what was counted', () => {
    const account = incident({ kind: 'unattributed_spend', key_id: null }, { unit: 'credits' });
    expect(incidentChartSpec(account)).toBeNull();
  });
});
