/**
 * The writer thread's handle: spawned early (serve.ts starts it before migrating, the CLI before
 * its own code loads), it opens its connection only when told, and a thread never told to open
 * closes without touching storage.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../../../server/db/client.ts';
import { batchBytes } from '../../../server/ingest/gateway/usage-chunk.ts';
import {
  createThreadWriter,
  discardPrestartedWriterThread,
  prestartWriterThread,
} from '../../../server/ingest/gateway/usage-writer.ts';
import { T0 } from '../../helpers/store.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'keywatch-writer-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const event = (eventId: string) => ({
  event: {
    source: 'gateway',
    eventId,
    key: { by: 'fingerprint' as const, fingerprint: `sha256:${'cd'.repeat(32)}`, last4: 'cd34' },
    ts: T0,
    credits: 7,
    requests: 1,
    status: 200,
    operation: 'ai-image-generator',
  },
});

describe('usage writer thread', () => {
  it('spawned and closed before it was told to open, it never touches the database', async () => {
    const path = join(dir, 'never.db');
    const writer = createThreadWriter({ kind: 'sqlite', path });
    writer.spawn();
    // The thread handles `close` only after its module has run: opening at load would create the file.
    await writer.close();
    expect(existsSync(path)).toBe(false);
  });

  it('spawned before the database exists, it opens it once migrated and stores batches', async () => {
    const path = join(dir, 'later.db');
    const writer = createThreadWriter({ kind: 'sqlite', path });
    writer.spawn();
    const store = openStore(path);
    try {
      await writer.ready();
      const reply = await writer.write(
        batchBytes([{ count: 1, segment: -1, bytes: null, items: [event('w.1')] }]),
        T0,
      );
      expect(reply).toMatchObject({ ok: true, discovered: [{ name: 'discovered-cd34' }] });
      expect(store.sqlite.prepare('SELECT event_id, credits FROM usage_events').all()).toEqual([
        { event_id: 'w.1', credits: 7 },
      ]);
    } finally {
      await writer.close();
      store.close();
    }
  });

  it('a thread prestarted before the configuration is read is the one the first writer opens and closes', async () => {
    const thread = prestartWriterThread();
    const exited = new Promise<void>((resolve) => thread.once('exit', () => resolve()));
    const path = join(dir, 'prestarted.db');
    const store = openStore(path);
    const writer = createThreadWriter({ kind: 'sqlite', path });
    try {
      await writer.ready();
      const reply = await writer.write(
        batchBytes([{ count: 1, segment: -1, bytes: null, items: [event('p.1')] }]),
        T0,
      );
      expect(reply).toMatchObject({ ok: true });
      expect(store.sqlite.prepare('SELECT event_id FROM usage_events').all()).toEqual([{ event_id: 'p.1' }]);
    } finally {
      await writer.close();
      store.close();
    }
    // Adopted: closing the writer ended that very thread (one left unadopted would still be idling).
    await exited;
    // The next writer starts a thread of its own.
    expect(prestartWriterThread()).not.toBe(thread);
    discardPrestartedWriterThread();
  });
});
