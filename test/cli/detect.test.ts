/** `keywatch detect series` as an outside evaluator runs it: CSV on stdin, scored CSV on stdout. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = resolve(import.meta.dirname, '../../server/keywatch.mjs');

/** Two weeks of 5-minute counts with a daily cycle and one burst. */
function series(): { csv: string; burst: number } {
  const lines = ['timestamp,value'];
  const start = Date.UTC(2026, 0, 5);
  let burst = -1;
  for (let i = 0; i < 14 * 288; i++) {
    const t = start + i * 300_000;
    const hour = new Date(t).getUTCHours();
    let v = Math.round(20 + 10 * Math.sin((2 * Math.PI * hour) / 24) + ((i * 7919) % 7) - 3);
    if (i === 12 * 288 + 100) {
      v = 400;
      burst = i;
    }
    lines.push(`${new Date(t).toISOString().replace('T', ' ').slice(0, 19)},${v}`);
  }
  return { csv: `${lines.join('\n')}\n`, burst };
}

describe('keywatch detect series', () => {
  it('scores every row in [0, 1], causally, and flags the burst', () => {
    const { csv, burst } = series();
    const r = spawnSync(process.execPath, [BIN, 'detect', 'series', '--input', '-'], {
      input: csv,
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    const rows = r.stdout.trim().split('\n');
    expect(rows[0]).toBe('timestamp,value,anomaly_score,is_anomaly');
    expect(rows).toHaveLength(csv.trim().split('\n').length);
    const scores = rows.slice(1).map((l) => Number(l.split(',')[2]));
    expect(scores.every((s) => s >= 0 && s <= 1)).toBe(true);
    expect(rows[burst + 1]!.endsWith(',1')).toBe(true);
    // Causal: the scores before the burst do not change when the rows after it are removed.
    const head = `${csv
      .trim()
      .split('\n')
      .slice(0, burst + 1)
      .join('\n')}\n`;
    const r2 = spawnSync(process.execPath, [BIN, 'detect', 'series', '--input', '-'], {
      input: head,
      encoding: 'utf8',
    });
    expect(r2.stdout.trim().split('\n')).toEqual(rows.slice(0, burst + 1));
  });

  it('writes --output and rejects a file without the header', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kw-series-'));
    try {
      writeFileSync(join(dir, 'in.csv'), 'timestamp,value\n2026-01-01T00:00:00Z,1\n');
      const ok = spawnSync(
        process.execPath,
        [BIN, 'detect', 'series', '--input', join(dir, 'in.csv'), '--output', join(dir, 'out.csv')],
        { encoding: 'utf8' },
      );
      expect(ok.status).toBe(0);
      expect(readFileSync(join(dir, 'out.csv'), 'utf8')).toBe(
        'timestamp,value,anomaly_score,is_anomaly\n2026-01-01T00:00:00Z,1,0.000000,0\n',
      );
      const bad = spawnSync(process.execPath, [BIN, 'detect', 'series', '--input', '-'], {
        input: 'a,b\n1,2\n',
        encoding: 'utf8',
      });
      expect(bad.status).not.toBe(0);
      expect(bad.stderr).toMatch(/timestamp,value/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
