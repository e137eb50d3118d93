/**
 * The Prometheus text exposition format (version 0.0.4), written by hand, and a small in-memory
 * histogram. No module-level state: whoever records a histogram is handed it.
 */

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type Labels = Record<string, string>;
export type Sample = { labels?: Labels; value: number };
export type Family =
  | { name: string; help: string; type: 'counter' | 'gauge'; samples: Sample[] }
  | { name: string; help: string; type: 'histogram'; histogram: HistogramSnapshot };

export type HistogramSnapshot = {
  /** Upper bounds, ascending, without +Inf. */
  buckets: number[];
  /** Per bucket, observations <= its bound (cumulative), one more entry for +Inf. */
  counts: number[];
  sum: number;
  count: number;
};

export type Histogram = { observe(value: number): void; snapshot(): HistogramSnapshot };

/** Seconds: from a fast local answer to a long video render upload. */
export const DEFAULT_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export function createHistogram(buckets: number[] = DEFAULT_DURATION_BUCKETS): Histogram {
  const bounds = [...buckets].sort((a, b) => a - b);
  // Not cumulative while recording (one increment per observation); summed up in snapshot().
  const perBucket = new Array<number>(bounds.length + 1).fill(0);
  let sum = 0;
  let count = 0;
  return {
    observe(value) {
      if (!Number.isFinite(value)) return;
      let i = 0;
      while (i < bounds.length && value > bounds[i]!) i++;
      perBucket[i]!++;
      sum += value;
      count++;
    },
    snapshot() {
      let running = 0;
      const counts = perBucket.map((n) => {
        running += n;
        return running;
      });
      return { buckets: [...bounds], counts, sum, count };
    },
  };
}

/** Label values: backslash, double quote and line feed are escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** HELP text: backslash and line feed are escaped. */
function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

function labelText(labels: Labels | undefined): string {
  const entries = Object.entries(labels ?? {});
  if (entries.length === 0) return '';
  return `{${entries.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(',')}}`;
}

/** The whole exposition: HELP and TYPE before each family's samples, ending with a line feed. */
export function renderMetrics(families: Family[]): string {
  const lines: string[] = [];
  for (const f of families) {
    lines.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    if (f.type === 'histogram') {
      const h = f.histogram;
      h.buckets.forEach((le, i) => {
        lines.push(`${f.name}_bucket${labelText({ le: formatValue(le) })} ${h.counts[i]}`);
      });
      lines.push(`${f.name}_bucket{le="+Inf"} ${h.count}`);
      lines.push(`${f.name}_sum ${formatValue(h.sum)}`, `${f.name}_count ${h.count}`);
    } else {
      for (const s of f.samples) lines.push(`${f.name}${labelText(s.labels)} ${formatValue(s.value)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
