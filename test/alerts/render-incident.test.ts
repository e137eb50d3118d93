/**
 * The rendered emails, compared with the checked-in samples under fixtures/ (regenerate with
 * UPDATE_FIXTURES=1 npx vitest run test/alerts/render.test.ts, then read the diff).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderDigest } from '../../server/alerts/render-digest.ts';
import { type IncidentEmailInput, renderIncidentEmail } from '../../server/alerts/render-incident.ts';
import { INCIDENT_KINDS } from '../../server/incidents/kinds.ts';
import type { IncidentView } from '../../server/incidents/view.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const base = {
  publicUrl: 'https://keywatch.example.com',
  timeZone: 'Europe/Paris',
  reason: 'opened' as const,
};

const incident = (over: Partial<IncidentView>): IncidentView => ({
  id: 'inc_7Hq2xk9',
  key: 'prod-web',
  key_id: 'key_prodweb',
  kind: 'credit_spike',
  severity: 'critical',
  state: 'open',
  subject: 'key:key_prodweb',
  started_at: '2026-11-26T10:00:00.000Z',
  detected_at: '2026-11-26T10:03:00.000Z',
  last_seen_at: '2026-11-26T12:00:00.000Z',
  resolved_at: null,
  observed: 42_300,
  expected: 1_200,
  score: 0.99,
  summary: 'prod-web spent 42,300 credits in 2 hours, 35 times its usual rate for a Thursday midday.',
  impact_credits: 41_100,
  acknowledged_by: null,
  acknowledged_at: null,
  note: null,
  snoozed_until: null,
  feedback: null,
  signals: [],
  details: {
    window: { from: '2026-11-26T10:00:00.000Z', to: '2026-11-26T12:00:00.000Z' },
    unit: 'credits',
    baseline: { expected: 1_200, low: 800, high: 1_700, method: 'usual range for this hour of the week' },
    contributors: {
      operations: [
        { name: 'face-swap', credits: 30_000, requests: 250 },
        { name: 'text-to-video', credits: 12_300, requests: 41 },
      ],
      ips: [
        { value: '198.51.100.23', requests: 280 },
        { value: '203.0.113.7', requests: 11 },
      ],
      user_agents: [{ value: 'python-requests/2.32', requests: 291 }],
    },
  },
  ...over,
});

const key = { name: 'prod-web', last4: 'a1b2', environment: 'production' };
const samples: Record<string, IncidentEmailInput> = {
  credit_spike: { ...base, incident: incident({}), key },
  auth_failures: {
    ...base,
    key: { name: 'mobile-app', last4: '9f3c', environment: 'production' },
    incident: incident({
      kind: 'auth_failures',
      key: 'mobile-app',
      severity: 'warning',
      observed: 312,
      expected: 4,
      impact_credits: 0,
      started_at: '2026-11-26T11:45:00.000Z',
      summary: '312 requests with a revoked or wrong key for mobile-app in 15 minutes, from 2 new IPs.',
      details: {
        window: { from: '2026-11-26T11:45:00.000Z', to: '2026-11-26T12:00:00.000Z' },
        unit: 'auth failures',
        contributors: {
          ips: [
            { value: '192.0.2.50', requests: 300 },
            { value: '192.0.2.51', requests: 12 },
          ],
        },
      },
    }),
  },
  unattributed_spend: {
    ...base,
    key: null,
    incident: incident({
      kind: 'unattributed_spend',
      key: null,
      key_id: null,
      severity: 'critical',
      observed: 9_600,
      expected: 0,
      impact_credits: 9_600,
      summary:
        '9,600 credits charged by 4 projects that no gateway or push event knows: a key is used outside your paths.',
      details: {
        window: { from: '2026-11-26T06:00:00.000Z', to: '2026-11-26T12:00:00.000Z' },
        unit: 'credits',
        label: 'Account (unattributed)',
        contributors: { operations: [{ name: 'text-to-video', credits: 9_600, requests: 4 }] },
        actions: ["List the account's keys in the Developer Hub and revoke any you do not recognise."],
      },
    }),
  },
};

describe('incident emails', () => {
  for (const [kind, input] of Object.entries(samples)) {
    it(`renders ${kind} as in the checked-in sample`, () => {
      const email = renderIncidentEmail(input);
      const files = { txt: `${email.subject}\n\n${email.text}`, html: email.html };
      for (const [ext, content] of Object.entries(files)) {
        const file = join(FIXTURES, `${kind}.${ext}`);
        if (process.env.UPDATE_FIXTURES || !existsSync(file)) writeFileSync(file, content);
        expect(content).toBe(readFileSync(file, 'utf8'));
      }
    });
  }

  it('puts severity, key, last 4 and impact in the subject', () => {
    expect(renderIncidentEmail(samples.credit_spike!).subject).toBe(
      '[Keywatch] CRITICAL prod-web (…a1b2): 42,300 credits in 2 h, 35x normal',
    );
    expect(renderIncidentEmail(samples.auth_failures!).subject).toBe(
      '[Keywatch] WARNING mobile-app (…9f3c): 312 auth failures in 15 min, 78x normal',
    );
    expect(renderIncidentEmail(samples.unattributed_spend!).subject).toBe(
      '[Keywatch] CRITICAL Account (unattributed): 9,600 credits in 6 h, normally none',
    );
  });

  it('tells the observed amount over the window the detector judged, not the whole incident', () => {
    const judged = incident({
      observed: 9_200,
      expected: 450,
      details: {
        ...incident({}).details,
        peak_window: { from: '2026-11-26T10:30:00.000Z', to: '2026-11-26T10:45:00.000Z' },
      },
    });
    expect(renderIncidentEmail({ ...base, incident: judged, key }).subject).toBe(
      '[Keywatch] CRITICAL prod-web (…a1b2): 9,200 credits in 15 min, 20x normal',
    );
  });

  it('has no raw timestamps anywhere in the text, for every kind', () => {
    for (const kind of INCIDENT_KINDS) {
      const withHours = incident({
        kind,
        details: {
          ...incident({}).details,
          peak_window: { from: '2026-11-26T10:30:00.000Z', to: '2026-11-26T10:45:00.000Z' },
          contributors: { hours: [{ hour: '2026-11-26T10:00:00.000Z', credits: 42_000 }] },
        },
      });
      const { subject, text } = renderIncidentEmail({ ...base, incident: withHours, key });
      expect(`${subject}\n${text}`, kind).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/);
      expect(text).toContain('2026-11-26 11:00 (Europe/Paris)  42,000');
    }
  });

  it('escapes everything that came from outside in the HTML', () => {
    const hostile = incident({
      summary: '<script>alert(1)</script> & "quotes"',
      details: { contributors: { user_agents: [{ value: '<img src=x onerror=alert(1)>', requests: 3 }] } },
    });
    const { html, text } = renderIncidentEmail({
      ...base,
      incident: hostile,
      key: { name: 'a&b <c>', last4: '"x"', environment: null },
    });
    expect(html).not.toMatch(/<script>|<img/);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('a&amp;b &lt;c&gt; (…&quot;x&quot;)');
    expect(text).toContain('<script>alert(1)</script>');
    const crafted = renderIncidentEmail({
      ...base,
      incident: hostile,
      key: { name: 'x\r\nBcc: a@evil', last4: null, environment: null },
    });
    expect(crafted.subject).toMatch(/^\[Keywatch\] CRITICAL x Bcc: a@evil: /);
  });

  it('tells that an incident is resolved, without the to-do list', () => {
    const email = renderIncidentEmail({ ...samples.credit_spike!, reason: 'resolved' });
    expect(email.subject).toMatch(/^\[Keywatch\] RESOLVED prod-web \(…a1b2\): /);
    expect(email.text).toContain('This incident is resolved.');
    expect(email.text).not.toContain('What to do');
  });
});

describe('digest email', () => {
  it('counts what was recorded without paging', () => {
    const data = {
      cadence: 'daily' as const,
      unpaged: { tooOld: 3, belowFloor: 2 },
      period: { label: '2026-11-25', start: Date.UTC(2026, 10, 24, 23), end: Date.UTC(2026, 10, 25, 23) },
      previous: { label: '2026-11-24', start: Date.UTC(2026, 10, 23, 23), end: Date.UTC(2026, 10, 24, 23) },
      keys: [],
      total: 0,
      previousTotal: 0,
      openIncidents: [],
      month: { label: '2026-11', spent: 0, projected: 0, budget: null },
    };
    const email = renderDigest(data, 'https://keywatch.example.com', 'UTC');
    expect(email.text).toContain('Recorded without paging:');
    expect(email.text).toContain('3 found in history that had ended more than a day before');
    expect(email.text).toContain('2 below the credit floor');
  });

  it('renders as in the checked-in sample', () => {
    const email = renderDigest(
      {
        cadence: 'daily',
        unpaged: { tooOld: 0, belowFloor: 0 },
        period: { label: '2026-11-25', start: Date.UTC(2026, 10, 24, 23), end: Date.UTC(2026, 10, 25, 23) },
        previous: { label: '2026-11-24', start: Date.UTC(2026, 10, 23, 23), end: Date.UTC(2026, 10, 24, 23) },
        keys: [
          { name: 'prod-web', environment: 'production', credits: 12_000, previous: 10_000 },
          { name: 'staging-api', environment: 'staging', credits: 500, previous: 2_000 },
          { name: 'batch-jobs', environment: 'production', credits: 300, previous: 0 },
        ],
        total: 12_800,
        previousTotal: 12_000,
        openIncidents: [
          {
            id: 'inc_1',
            key: 'prod-web',
            kind: 'off_hours',
            severity: 'warning',
            startedAt: Date.UTC(2026, 10, 25, 2),
            summary: 'x',
          },
        ],
        month: { label: '2026-11', spent: 298_000, projected: 342_000, budget: 400_000 },
      },
      'https://keywatch.example.com',
      'Europe/Paris',
    );
    const files = { txt: `${email.subject}\n\n${email.text}`, html: email.html };
    for (const [ext, content] of Object.entries(files)) {
      const file = join(FIXTURES, `digest_daily.${ext}`);
      if (process.env.UPDATE_FIXTURES || !existsSync(file)) writeFileSync(file, content);
      expect(content).toBe(readFileSync(file, 'utf8'));
    }
    expect(email.subject).toBe('[Keywatch] Daily digest 2026-11-25: 12,800 credits (+7% vs previous day)');
    expect(email.text).toContain(
      'Projected by month end: 342,000 credits (86% of the 400,000 credit budget).',
    );
  });
});
