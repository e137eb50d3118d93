/** Which journal files a starting process adopts: those whose writer is gone, even if its pid lives on. */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openUsageJournal, processStartMs } from '../../../server/ingest/gateway/usage-journal.ts';
import { createLogger } from '../../../server/log.ts';

let dir: string;
let other: ChildProcess;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kw-journal-'));
  // A live process that is not Keywatch: its pid stands for one reused after a reboot.
  other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
  await new Promise((resolve) => other.once('spawn', resolve));
});
afterEach(() => {
  other.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const line = (id: string) => JSON.stringify({ eventId: id });
const journalOf = () => openUsageJournal(dir, 'starting', createLogger('error'), () => {});

function leaveFile(name: string, ids: string[], lastWriteMs: number): void {
  const path = join(dir, name);
  writeFileSync(path, `${ids.map(line).join('\n')}\n`);
  utimesSync(path, lastWriteMs / 1000, lastWriteMs / 1000);
}

describe('usage journal adoption', () => {
  it('reads when a process started from /proc', () => {
    const started = processStartMs(other.pid!);
    expect(started).not.toBeNull();
    expect(Math.abs(started! - Date.now())).toBeLessThan(30_000);
    expect(processStartMs(process.pid)).toBeLessThanOrEqual(started!);
  });

  it('adopts a file whose pid now belongs to a process started after its last write', () => {
    const started = processStartMs(other.pid!)!;
    leaveFile(`${other.pid}-gone-0.jsonl`, ['a', 'b'], started - 3_600_000);
    const adopted = journalOf().adopt();
    expect(adopted.flatMap((a) => a.items)).toEqual([{ eventId: 'a' }, { eventId: 'b' }]);
  });

  it('leaves the files of a live writer, and of a pid that started just before the write', () => {
    const started = processStartMs(other.pid!)!;
    leaveFile(`${other.pid}-live-0.jsonl`, ['c'], started + 10_000);
    leaveFile(`${other.pid}-close-0.jsonl`, ['d'], started - 1_000);
    expect(journalOf().adopt()).toEqual([]);
    expect(readdirSync(dir).sort()).toEqual([`${other.pid}-close-0.jsonl`, `${other.pid}-live-0.jsonl`]);
  });

  it('adopts the files of a pid no process holds, and of its own pid from before a restart', () => {
    leaveFile(`${2 ** 22 + 17}-dead-0.jsonl`, ['e'], Date.now());
    leaveFile(`${process.pid}-restarted-0.jsonl`, ['f'], Date.now());
    const ids = journalOf()
      .adopt()
      .flatMap((a) => a.items.map((i) => (i as unknown as { eventId: string }).eventId));
    expect(ids.sort()).toEqual(['e', 'f']);
  });
});
