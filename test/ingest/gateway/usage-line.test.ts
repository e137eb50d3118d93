/** The journal's line for an event reads back as the event, whatever its strings hold. */
import { describe, expect, it } from 'vitest';
import { usageLine } from '../../../server/ingest/gateway/usage-line.ts';
import type { QueuedUsage } from '../../../server/ingest/gateway/write-batch.ts';

const full: QueuedUsage = {
  event: {
    source: 'gateway',
    eventId: 'gw_abc.1z',
    key: { by: 'fingerprint', fingerprint: `sha256:${'ab'.repeat(32)}`, last4: 'cd34' },
    ts: 1_767_225_600_123,
    credits: 12.5,
    requests: 1,
    status: 200,
    operation: 'ai-image-generator',
    sourceIp: '2001:db8::1',
    userAgent: 'curl/8.5 "quoted" \\ back\u0001slash \u2028 ünïcödé 🙂',
    clientOrigin: 'https://app.example.com',
    projectId: 'cl\n"x"',
    latencyMs: 1.234,
  },
  project: { projectId: 'cm123', finalCredits: 40, status: 'complete' },
};

/** What JSON.stringify would have written, read back: the reference. */
const viaJson = (item: QueuedUsage) => JSON.parse(JSON.stringify(item));

describe('usageLine', () => {
  it('reads back as the event and its project, with escapes, nulls and missing fields', () => {
    const short: QueuedUsage = {
      event: {
        ...full.event,
        key: { by: 'fingerprint', fingerprint: 'sha256:00', last4: null },
        sourceIp: null,
        userAgent: undefined,
        clientOrigin: null,
        projectId: undefined,
        latencyMs: null,
      },
    };
    const noLast4: QueuedUsage = {
      event: { ...full.event, key: { by: 'fingerprint', fingerprint: 'sha256:00' } },
    };
    const ref: QueuedUsage = { event: { ...full.event, key: { by: 'ref', value: 'my "key"' } } };
    for (const item of [full, short, noLast4, ref]) {
      const line = usageLine(item);
      expect(line).not.toContain('\n');
      expect(JSON.parse(line)).toEqual(viaJson(item));
    }
  });

  it('keeps the key part of each key apart (same fingerprint, other last 4; cached or not)', () => {
    const a = usageLine(full);
    const fingerprint = `sha256:${'ab'.repeat(32)}`;
    const b = usageLine({ event: { ...full.event, key: { by: 'fingerprint', fingerprint, last4: 'zz99' } } });
    const c = usageLine({ event: { ...full.event, key: { by: 'fingerprint', fingerprint, last4: null } } });
    expect(JSON.parse(a).event.key.last4).toBe('cd34');
    expect(JSON.parse(b).event.key.last4).toBe('zz99');
    expect(JSON.parse(c).event.key.last4).toBeNull();
    expect(usageLine(full)).toBe(a);
  });

  it('writes a number JSON cannot hold as null, like JSON.stringify', () => {
    const item: QueuedUsage = {
      event: { ...full.event, credits: Number.NaN, latencyMs: Number.POSITIVE_INFINITY },
    };
    expect(JSON.parse(usageLine(item))).toEqual(viaJson(item));
  });
});
