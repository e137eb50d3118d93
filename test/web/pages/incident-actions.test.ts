/**
 * The incident page and the incident email list the same "what to do" steps, for every kind and
 * severity: one wording, built once (server/incidents/what-to-do.ts).
 */
import { describe, expect, it } from 'vitest';
import { renderIncidentEmail } from '../../../server/alerts/render-incident.ts';
import { INCIDENT_KINDS, SEVERITIES, type Severity } from '../../../server/incidents/kinds.ts';
import type { IncidentView } from '../../../server/incidents/view.ts';
import type { PageContext } from '../../../web/components/layout.tsx';
import { IncidentDetailPage } from '../../../web/pages/incident-detail.tsx';

const ctx = {
  assets: { script: () => ({ src: '/p.js', preload: [] }), css: '/s.css', files: new Map() },
  session: { role: 'viewer', csrfToken: 't', email: 'v@example.com' },
  creditPrice: undefined,
  timeZone: 'UTC',
} as unknown as PageContext;

const incident = (kind: string, severity: Severity): IncidentView =>
  ({
    id: 'inc_1',
    key: 'prod-web',
    key_id: 'key_1',
    kind,
    severity,
    state: 'open',
    subject: 'key:key_1',
    started_at: '2026-11-26T10:00:00.000Z',
    detected_at: '2026-11-26T10:03:00.000Z',
    last_seen_at: '2026-11-26T10:15:00.000Z',
    resolved_at: null,
    observed: 900,
    expected: 100,
    score: 0.9,
    summary: 's',
    impact_credits: 800,
    acknowledged_by: null,
    acknowledged_at: null,
    note: null,
    snoozed_until: null,
    feedback: null,
    details: { unit: 'credits', actions: ['A stale stored step nobody should see.'] },
    signals: [],
  }) as IncidentView;

const decode = (s: string) =>
  s
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

async function pageSteps(i: IncidentView): Promise<string[]> {
  const html = String(await IncidentDetailPage({ ctx, incident: i }));
  const list = html.match(/<ol id="incident-todo"[^>]*>(.*?)<\/ol>/s)?.[1] ?? '';
  return [...list.matchAll(/<li>(.*?)<\/li>/gs)].map((m) => decode(m[1]!));
}

function emailSteps(i: IncidentView): { text: string[]; html: string[] } {
  const email = renderIncidentEmail({
    incident: i,
    key: { name: 'prod-web', last4: null, environment: null },
    reason: 'opened',
    publicUrl: 'https://kw.example.com',
    timeZone: 'UTC',
  });
  const text = email.text.split('What to do:\n')[1]?.split('\n\n')[0] ?? '';
  const html = email.html.match(/<h3>What to do<\/h3><ol>(.*?)<\/ol>/s)?.[1] ?? '';
  return {
    text: text.split('\n').map((l) => l.replace(/^\d+\. /, '')),
    html: [...html.matchAll(/<li>(.*?)<\/li>/gs)].map((m) => decode(m[1]!)),
  };
}

describe('what to do, on the page and in the email', () => {
  for (const kind of INCIDENT_KINDS) {
    for (const severity of SEVERITIES) {
      it(`lists the same steps for ${kind} at ${severity}`, async () => {
        const i = incident(kind, severity);
        const page = await pageSteps(i);
        const email = emailSteps(i);
        expect(page.length).toBeGreaterThan(0);
        expect(email.text).toEqual(page);
        expect(email.html).toEqual(page);
        expect(page).not.toContain('A stale stored step nobody should see.');
      });
    }
  }

  it('says revoke now when critical, check then rotate when a warning, review when info', async () => {
    const [critical, warning, info] = await Promise.all(
      (['critical', 'warning', 'info'] as const).map((s) => pageSteps(incident('credit_spike', s))),
    );
    expect(critical![0]).toMatch(/^Revoke the key now/);
    expect(warning![0]).toMatch(/^Check /);
    expect(warning!.join(' ')).toMatch(/rotate/);
    expect(info![0]).toMatch(/^Review /);
  });
});
