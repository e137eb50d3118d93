import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBudget } from '../../server/budgets/budgets.ts';
import { createHistogram, escapeLabelValue, renderMetrics } from '../../server/http/metrics.ts';
import { createTestApi } from '../helpers/api.ts';
import { createWriter } from '../helpers/incident-fixtures.ts';
import { createTestDeps, T0, type TestDeps } from '../helpers/store.ts';

describe('Prometheus text format', () => {
  it('writes HELP and TYPE before the samples and escapes label values', () => {
    const text = renderMetrics([
      {
        name: 'keywatch_key_credits_total',
        help: 'Credits\nper key \\ env',
        type: 'counter',
        samples: [{ labels: { key: 'a"b\\c\nd', environment: '' }, value: 12.5 }],
      },
      { name: 'up_ratio', help: 'No labels.', type: 'gauge', samples: [{ value: 1 }] },
    ]);
    expect(text).toBe(
      [
        '# HELP keywatch_key_credits_total Credits\\nper key \\\\ env',
        '# TYPE keywatch_key_credits_total counter',
        'keywatch_key_credits_total{key="a\\"b\\\\c\\nd",environment=""} 12.5',
        '# HELP up_ratio No labels.',
        '# TYPE up_ratio gauge',
        'up_ratio 1',
        '',
      ].join('\n'),
    );
    expect(escapeLabelValue('plain')).toBe('plain');
  });

  it('writes a histogram with cumulative buckets, +Inf, _sum and _count', () => {
    const h = createHistogram([0.1, 0.5, 1]);
    for (const v of [0.05, 0.1, 0.3, 0.7, 2, 5]) h.observe(v);
    h.observe(Number.NaN);
    const text = renderMetrics([
      { name: 'd_seconds', help: 'Durations.', type: 'histogram', histogram: h.snapshot() },
    ]);
    expect(text.split('\n')).toEqual([
      '# HELP d_seconds Durations.',
      '# TYPE d_seconds histogram',
      'd_seconds_bucket{le="0.1"} 2',
      'd_seconds_bucket{le="0.5"} 3',
      'd_seconds_bucket{le="1"} 4',
      'd_seconds_bucket{le="+Inf"} 6',
      'd_seconds_sum 8.15',
      'd_seconds_count 6',
      '',
    ]);
  });
});

describe('GET /metrics', () => {
  let deps: TestDeps;
  afterEach(() => deps.cleanup());

  describe('without KEYWATCH_METRICS_TOKEN', () => {
    let api: ReturnType<typeof createTestApi>;
    beforeEach(() => {
      deps = createTestDeps();
      api = createTestApi(deps);
    });

    it('is open and shows credits per key, open incidents by severity, budgets and the gateway histogram', async () => {
      const ingest = await api.tokenFor('ingest');
      const event = (id: string, key: string, credits: number) => ({
        id,
        key,
        ts: new Date(T0 - 60_000).toISOString(),
        credits,
        operation: 'face-swap',
      });
      const pushed = await api.call('POST', '/api/v1/usage', ingest, {
        events: [event('e1', 'prod-web', 120), event('e2', 'prod-web', 5), event('e3', 'batch "jobs"', 40)],
      });
      expect(pushed.status).toBeLessThan(300);
      const writer = createWriter(deps);
      await writer.open({ severity: 'critical', subject: 'account' });
      await writer.open({ severity: 'warning', subject: 'account', kind: 'usage_drop' });
      const resolved = await writer.open({
        severity: 'warning',
        subject: 'network:10.0.0.0/24',
        kind: 'off_hours',
      });
      await writer.resolve(resolved.id);
      await createBudget(deps, { scope: 'total', monthly_credits: 1000 }, 'test');

      const res = await api.call('GET', '/metrics', null);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      const text = res.json as string;
      expect(text).toContain('# TYPE keywatch_key_credits_total counter');
      expect(text).toMatch(/^keywatch_key_credits_total\{key="prod-web",environment="[^"]*"\} 125$/m);
      expect(text).toMatch(/^keywatch_key_requests_total\{key="prod-web",environment="[^"]*"\} 2$/m);
      expect(text).toMatch(/^keywatch_key_credits_total\{key="batch \\"jobs\\"",environment="[^"]*"\} 40$/m);
      expect(text).toContain('keywatch_open_incidents{severity="critical"} 1');
      expect(text).toContain('keywatch_open_incidents{severity="warning"} 1');
      expect(text).toContain('keywatch_open_incidents{severity="info"} 0');
      expect(text).toMatch(/^keywatch_budget_used_ratio\{budget="[^"]+"\} 0\.165$/m);
      expect(text).toContain('# TYPE keywatch_outbox_backlog gauge');
      expect(text).toContain('keywatch_gateway_request_duration_seconds_bucket{le="+Inf"} 0');
      expect(text).toMatch(/^process_resident_memory_bytes \d+$/m);
    });
  });

  describe('with KEYWATCH_METRICS_TOKEN', () => {
    const TOKEN = 'metrics-token-0123456789abcdef';
    let api: ReturnType<typeof createTestApi>;
    beforeEach(() => {
      deps = createTestDeps({ KEYWATCH_METRICS_TOKEN: TOKEN });
      api = createTestApi(deps);
    });

    it('answers 401 JSON without the token or with a wrong one, 200 with it', async () => {
      const none = await api.call('GET', '/metrics', null);
      expect(none.status).toBe(401);
      expect(none.json.error.code).toBe('unauthorized');
      const wrong = await api.call('GET', '/metrics', `${TOKEN}x`);
      expect(wrong.status).toBe(401);
      // An API token is not the metrics token.
      const apiToken = await api.call('GET', '/metrics', await api.tokenFor('admin'));
      expect(apiToken.status).toBe(401);
      const right = await api.call('GET', '/metrics', TOKEN);
      expect(right.status).toBe(200);
      expect(right.json).toContain('# TYPE keywatch_open_incidents gauge');
    });
  });
});
