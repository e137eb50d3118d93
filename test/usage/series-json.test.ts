import { describe, expect, it } from 'vitest';
import { DAY } from '../../server/clock.ts';
import { createBodyWriter } from '../../server/usage/encode-body.ts';
import { pointsView, rememberedIso } from '../../server/usage/routes.ts';
import { type GroupRun, seriesOf } from '../../server/usage/series.ts';
import { groupJsonWriter } from '../../server/usage/series-json.ts';
import { csvLines } from '../../web/csv.ts';
import { writeRunLines } from '../../web/csv-runs.ts';
import { T0 } from '../helpers/store.ts';

const range = { from: T0 - 5 * DAY, to: T0, step: 'day' as const };
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const day = (n: number) => T0 - n * DAY;
const groups: GroupRun[] = [
  {
    group: 'prod "web", naïve',
    key_id: 'k1',
    credits: 0.30000000000000004,
    requests: 3,
    errors: 1,
    run: [
      day(5),
      0.1 + 0.2,
      2,
      1,
      0,
      day(4),
      12,
      9_007_199_254_740_991,
      -7,
      10,
      day(3),
      -0,
      0,
      0,
      0,
      day(1),
      1e21,
      1,
      0,
      1,
    ],
  },
  { group: '=cmd', credits: 0, requests: 0, errors: 0, run: [] },
  { group: '(other)', credits: 5e-324, requests: 1, errors: 0, run: [day(2), 5e-324, 1, 0, 0] },
];

describe('group series written from runs', () => {
  it('as JSON, byte for byte what JSON.stringify writes of the points view', () => {
    const write = groupJsonWriter(range);
    const isoOf = rememberedIso();
    for (const g of groups) {
      const series = seriesOf(range, g);
      const out = createBodyWriter();
      write(g, out);
      expect(text(out.done())).toBe(JSON.stringify({ ...series, points: pointsView(series.points, isoOf) }));
    }
  });

  it('as CSV, the lines csvLines writes of the same rows', () => {
    const header = ['key', 'ts', 'credits', 'requests', 'errors', 'auth_failures'];
    const isoOf = rememberedIso();
    const rows = groups.flatMap((g) =>
      seriesOf(range, g).points.map((p) => [
        g.group,
        isoOf(p.ts),
        p.credits,
        p.requests,
        p.errors,
        p.auth_failures,
      ]),
    );
    const out = createBodyWriter();
    writeRunLines(out, header, range, groups, isoOf);
    expect(text(out.done())).toBe([...csvLines(header, rows)].join(''));
  });
});
