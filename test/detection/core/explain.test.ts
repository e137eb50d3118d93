/**
 * Summaries are for people: for every kind, with ordinary and edge numbers (nothing usual, a tiny
 * usual rate, facts missing), one plain sentence with numbers; no statistics words, no raw
 * timestamps, no "about 0.0". The detectors' band names (shown as "usual range ...") too.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Explainable, summarize } from '../../../server/detection/core/explain.ts';
import type { DetectorKind } from '../../../server/detection/core/params.ts';
import { SECURITY_KINDS } from '../../../server/incidents/kinds.ts';

const JARGON = [
  /binomial/i,
  /poisson/i,
  /cusum/i,
  /likelihood/i,
  /\btail\b/i,
  /dispersion/i,
  /bonferroni/i,
  /\bp-?value\b/i,
  /seasonal/i,
  /baseline/i,
  /\b0\.0\b/,
  /about 0\b/,
  /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/,
  /\bUTC\b(?! on)/,
  /NaN|undefined|Infinity|null|\?/,
  /\d\.\dx\b/,
];

const T = Date.UTC(2026, 10, 28, 2, 10);
const FACTS: Record<DetectorKind, Explainable['facts']> = {
  credit_spike: { requests: 291, expected_requests: 8.4, minutes: 15 },
  sustained_elevation: { ratio: 1.46, hours: 30 },
  off_hours: { hour: 2, weekend: 1 },
  dormant_wake: { idle_days: 41.3 },
  revoked_use: { revoked_at: T - 3 * 86_400_000 },
  auth_failures: { failures: 312 },
  discovered_key: {},
  new_source: { ips: ['198.51.100.23'], user_agents: ['python-requests/2.32'] },
  operation_mix: {
    new_operations: ['text-to-video'],
    credits_per_request: 300,
    usual_credits_per_request: 12.5,
  },
  unattributed_spend: {},
  usage_drop: { ratio: 0.02, hours: 6 },
  client_exposure: {
    browser_requests: 12,
    browsers: ['Chrome 131 on macOS'],
    origin_requests: 12,
    origins: ['https://shop.example.com'],
    networks: 3,
  },
};

type Case = { name: string; e: Omit<Explainable, 'kind'> };
const base = { key: 'prod-web', startedAt: T, lastSeenAt: T + 15 * 60_000, timeZone: 'Europe/Paris' };
const CASES: Case[] = [
  { name: 'ordinary numbers', e: { ...base, observed: 42_300, expected: 1_200, impact: 41_100 } },
  { name: 'nothing usual', e: { ...base, observed: 312, expected: 0, impact: 0 } },
  { name: 'a tiny usual rate', e: { ...base, observed: 9, expected: 0.04, impact: 3.7 } },
  { name: 'the account', e: { ...base, key: null, observed: 9_600, expected: 0, impact: 9_600 } },
  {
    name: 'a network of unknown keys',
    e: {
      ...base,
      key: null,
      who: 'Unknown keys from 203.0.113.0/24',
      observed: 40,
      expected: 0,
      impact: 400,
    },
  },
];

describe('summaries in plain words', () => {
  for (const kind of SECURITY_KINDS) {
    for (const { name, e } of CASES) {
      for (const facts of [FACTS[kind], {}]) {
        const label = `${kind}, ${name}${Object.keys(facts ?? {}).length ? '' : ', no facts'}`;
        it(`has no jargon or raw timestamps: ${label}`, () => {
          const text = summarize({ ...e, kind, facts });
          expect(text).toMatch(/^[A-Z0-9"].*\.$/s);
          expect(text).toMatch(/\d/);
          for (const word of JARGON) expect(text, `${word} in: ${text}`).not.toMatch(word);
        });
      }
    }
  }

  it('tells a time of day in the configured zone', () => {
    const text = summarize({ ...CASES[0]!.e, kind: 'off_hours', facts: FACTS.off_hours });
    expect(text).toContain('03:10 on Saturday (Europe/Paris)');
  });

  it('tells how long after revocation a revoked key was used', () => {
    const text = summarize({ ...CASES[0]!.e, kind: 'revoked_use', facts: FACTS.revoked_use });
    expect(text).toContain('3 days after it was revoked');
  });
});

describe('band names shown as "usual range"', () => {
  const dir = join(import.meta.dirname, '../../../server/detection/core');
  const files = [
    ...readdirSync(join(dir, 'detectors')).map((f) => join(dir, 'detectors', f)),
    join(dir, 'account.ts'),
  ];
  for (const file of files) {
    const methods = [...readFileSync(file, 'utf8').matchAll(/method: [`'"](.*?)[`'"],?\n/g)].map(
      (m) => m[1]!,
    );
    it(`are plain words in ${file.split('/core/')[1]}`, () => {
      for (const method of methods) {
        for (const word of JARGON.slice(0, 10)) expect(method, method).not.toMatch(word);
      }
    });
  }
});
