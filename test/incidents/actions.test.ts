import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DAY, MINUTE } from '../../server/clock.ts';
import { createTestApi } from '../helpers/api.ts';
import { addKey, alertEnv, createWriter, markOutboxSent, outboxRows } from '../helpers/incident-fixtures.ts';
import { forEachStore, selectRows, T0, type TestDeps } from '../helpers/store.ts';

let deps: TestDeps;
let api: ReturnType<typeof createTestApi>;
let admin: string;
let reader: string;
let incidentId: string;
let keyId: string;

const post = (action: string, body?: unknown, token = admin, id = incidentId) =>
  api.call('POST', `/api/v1/incidents/${id}/${action}`, token, body);
const audit = () =>
  selectRows<{ actor: string; action: string; target: string; details: string | null }>(
    deps,
    'SELECT actor, action, target, details FROM audit_log ORDER BY id',
  );

forEachStore((_kind, open) => {
  beforeEach(async () => {
    deps = await open(alertEnv());
    api = createTestApi(deps);
    admin = await api.tokenFor('admin');
    reader = await api.tokenFor('read');
    keyId = await addKey(deps, 'prod-web');
    incidentId = (
      await createWriter(deps).open({ keyId, observed: 5000, expected: 100, impactCredits: 4900 })
    ).id;
  });
  afterEach(() => deps.cleanup());

  describe('incident actions', () => {
    it('acknowledges with who and a note, and writes the audit log', async () => {
      const res = await post('ack', { note: 'on it' });
      expect(res.status).toBe(200);
      expect(res.json.incident).toMatchObject({
        id: incidentId,
        key: 'prod-web',
        key_id: keyId,
        state: 'acknowledged',
        acknowledged_by: 'token:test-admin',
        acknowledged_at: new Date(T0).toISOString(),
        note: 'on it',
        impact_credits: 4900,
      });
      expect((await audit()).at(-1)).toMatchObject({ action: 'incident.ack', target: incidentId });
    });

    it('snoozes by minutes or until a time, and validates both', async () => {
      const a = await post('snooze', { minutes: 90 });
      expect(a.json.incident).toMatchObject({
        state: 'snoozed',
        snoozed_until: new Date(T0 + 90 * MINUTE).toISOString(),
      });
      const b = await post('snooze', { until: '2026-11-26T18:00:00+01:00', note: 'deploy window' });
      expect(b.json.incident.snoozed_until).toBe('2026-11-26T17:00:00.000Z');
      for (const bad of [
        {},
        { minutes: 5, until: T0 + 1 },
        { until: T0 - 1 },
        { minutes: 0 },
        { until: T0 + 40 * DAY },
      ]) {
        const res = await post('snooze', bad);
        expect(res.status, JSON.stringify(bad)).toBe(400);
        expect(res.json.error.code).toBe('validation_failed');
      }
      expect((await audit()).filter((e) => e.action === 'incident.snooze')).toHaveLength(2);
    });

    it('resolves by hand, telling those who were told it opened', async () => {
      await markOutboxSent(deps);
      const res = await post('resolve', { note: 'key rotated' });
      expect(res.json.incident).toMatchObject({ state: 'resolved', resolved_at: new Date(T0).toISOString() });
      const mails = await outboxRows(deps);
      expect(mails.map((m) => m.subject.split(':')[0])).toEqual([
        '[Keywatch] WARNING prod-web (…a1b2)',
        '[Keywatch] RESOLVED prod-web (…a1b2)',
      ]);
      expect((await post('resolve')).status).toBe(409);
      expect((await post('ack')).status).toBe(409);
    });

    it('turns feedback into detection adjustments', async () => {
      const fp = await post('feedback', { feedback: 'false_positive', note: 'load test' });
      expect(fp.json.incident).toMatchObject({ feedback: 'false_positive', note: 'load test' });
      deps.clock.advance(MINUTE);
      await post('feedback', { feedback: 'new_normal' });
      await post('feedback', { feedback: 'expected', until: '2026-11-27T00:00:00Z' });
      const rows = await selectRows(
        deps,
        'SELECT key_id, kind, type, "from", until, factor, incident_id FROM detection_adjustments ORDER BY id',
      );
      const [started] = await selectRows<{ s: number }>(deps, 'SELECT started_at AS s FROM incidents');
      expect(rows).toEqual([
        {
          key_id: keyId,
          kind: 'credit_spike',
          type: 'desensitize',
          from: T0,
          until: T0 + 14 * DAY,
          factor: 2,
          incident_id: incidentId,
        },
        {
          key_id: keyId,
          kind: null,
          type: 'rebaseline',
          from: T0 + MINUTE,
          until: null,
          factor: null,
          incident_id: incidentId,
        },
        {
          key_id: keyId,
          kind: null,
          type: 'suppress',
          from: started!.s,
          until: Date.parse('2026-11-27T00:00:00Z'),
          factor: null,
          incident_id: incidentId,
        },
      ]);
      expect((await audit()).filter((e) => e.action === 'incident.feedback')).toHaveLength(3);
      const bad = await post('feedback', { feedback: 'meh' });
      expect(bad.status).toBe(400);
      expect(bad.json.error.issues[0].path).toBe('feedback');
    });

    it('needs admin credentials, knows unknown incidents, and changes nothing on rejection', async () => {
      expect((await post('ack', {}, reader)).status).toBe(403);
      expect((await post('ack', {}, '')).status).toBe(401);
      expect((await post('ack', {}, admin, 'inc_nope')).status).toBe(404);
      expect((await post('ack', { note: 'x', extra: 1 })).status).toBe(400);
      expect(await selectRows(deps, 'SELECT state FROM incidents')).toEqual([{ state: 'open' }]);
      expect((await audit()).filter((e) => e.action.startsWith('incident.'))).toHaveLength(0);
    });
  });

  describe('routing API', () => {
    it('starts from the environment defaults and saves edits with an audit entry', async () => {
      const first = await api.call('GET', '/api/v1/alerts/routing', reader);
      expect(first.json.routing).toEqual({
        security_to: ['oncall@example.com'],
        billing_to: ['billing@example.com'],
        min_severity: 'info',
        environments: [],
      });
      const routing = {
        security_to: ['sec@example.com'],
        billing_to: [],
        environments: [{ environment: 'development', min_severity: 'critical' }],
      };
      const put = await api.call('PUT', '/api/v1/alerts/routing', admin, routing);
      expect(put.status).toBe(200);
      expect((await api.call('GET', '/api/v1/alerts/routing', reader)).json.routing).toEqual({
        ...routing,
        min_severity: 'info',
      });
      expect((await audit()).at(-1)?.action).toBe('alerts.routing.update');
      const bad = await api.call('PUT', '/api/v1/alerts/routing', admin, {
        ...routing,
        security_to: ['nope'],
      });
      expect(bad.json.error.issues[0].path).toBe('security_to.0');
      expect((await api.call('PUT', '/api/v1/alerts/routing', reader, routing)).status).toBe(403);
    });
  });
});
