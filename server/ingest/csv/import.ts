/**
 * `keywatch import csv`: rows mapped to usage events by a column map, validated like the push API
 * with line numbers, and written through the store's usage recorder only when every row is valid. Event ids
 * are `<source name>:<id column>` or `<source name>:<line>`, so importing a file again (or a longer
 * version of it) stores nothing twice.
 */
import type { Clock } from '../../clock.ts';
import type { Db } from '../../db/client.ts';
import { optimizeAfterBulkLoad } from '../../db/maintenance.ts';
import { type Issue, issuesFromZod, validationError } from '../../errors.ts';
import type { UsageEvent } from '../../usage/record-events.ts';
import { usageRecorderFor } from '../../usage/recorder.ts';
import { PUSH_FIELDS } from '../push/fast-event.ts';
import { MAX_FUTURE_SKEW_MS, PushEventSchema, toUsageEvent } from '../push/push.ts';
import { CsvSyntaxError, parseCsv } from './parse.ts';

/** Push's fields but `origin`: a web page's origin is not something usage exports carry. */
export const CSV_FIELDS = PUSH_FIELDS.filter(
  (f): f is Exclude<(typeof PUSH_FIELDS)[number], 'origin'> => f !== 'origin',
);
export type CsvField = (typeof CSV_FIELDS)[number];
const NUMERIC = new Set<CsvField>(['credits', 'requests', 'status', 'latency_ms']);
const REQUIRED: CsvField[] = ['ts', 'key'];
/** Rows per transaction: large files are written in steps, and a re-run skips what was written. */
const CHUNK = 10_000;

export type ImportSummary = {
  rows: number;
  accepted: number;
  duplicates: number;
  keys: number;
  discovered: string[];
  from: number | null;
  to: number | null;
};

/** Parses `ts=timestamp,key=api_key,credits=cost`; unmapped fields default to a column of their own name. */
export function parseFieldMap(spec: string | undefined): Partial<Record<CsvField, string>> {
  const map: Partial<Record<CsvField, string>> = {};
  const issues: Issue[] = [];
  for (const pair of (spec ?? '').split(',').filter((p) => p.trim() !== '')) {
    const [field, column] = pair.split('=').map((s) => s.trim());
    if (!field || !column || !(CSV_FIELDS as readonly string[]).includes(field)) {
      issues.push({
        path: `--map ${pair}`,
        message: `expected field=column with field one of ${CSV_FIELDS.join(', ')}`,
      });
    } else map[field as CsvField] = column;
  }
  if (issues.length > 0) throw validationError(issues, 'The column map is invalid.');
  return map;
}

/** Validates the whole file; throws a validation error listing every bad row by line. */
export function parseCsvEvents(
  text: string,
  options: { map: Partial<Record<CsvField, string>>; sourceName: string },
  clock: Clock,
): UsageEvent[] {
  const records = readRecords(text);
  const header = records.shift();
  if (!header)
    throw validationError([{ path: 'line 1', message: 'the file is empty; expected a header row' }]);
  const columns = new Map(header.fields.map((name, i) => [name.trim(), i]));
  const index: Partial<Record<CsvField, number>> = {};
  const issues: Issue[] = [];
  for (const field of CSV_FIELDS) {
    const column = options.map[field] ?? field;
    const at = columns.get(column);
    if (at !== undefined) index[field] = at;
    else if (options.map[field] || REQUIRED.includes(field)) {
      issues.push({
        path: `line ${header.line}`,
        message: `no column "${column}" for ${field} in the header`,
      });
    }
  }
  if (issues.length > 0) throw validationError(issues, 'The header does not match the column map.');

  const now = clock.now();
  const events: UsageEvent[] = [];
  for (const { line, fields } of records) {
    if (fields.length !== header.fields.length) {
      issues.push({
        path: `line ${line}`,
        message: `has ${fields.length} columns; the header has ${header.fields.length}`,
      });
      continue;
    }
    const raw: Record<string, unknown> = { id: `${options.sourceName}:${line}` };
    for (const field of CSV_FIELDS) {
      const at = index[field];
      const value = at === undefined ? '' : fields[at]!.trim();
      if (value === '') continue;
      raw[field] =
        field === 'id' ? `${options.sourceName}:${value}` : NUMERIC.has(field) ? Number(value) : value;
    }
    const parsed = PushEventSchema.safeParse(raw);
    if (!parsed.success) {
      issues.push(
        ...issuesFromZod(parsed.error.issues).map((i) => ({
          path: `line ${line}`,
          message: `${i.path} (column "${options.map[i.path as CsvField] ?? i.path}"): ${i.message}`,
        })),
      );
      continue;
    }
    const e = parsed.data;
    if (e.ts === undefined || e.ts > now + MAX_FUTURE_SKEW_MS) {
      issues.push({ path: `line ${line}`, message: 'ts: is more than 5 minutes in the future' });
      continue;
    }
    events.push(toUsageEvent(e, now, 'csv'));
  }
  if (issues.length > 0) {
    throw validationError(issues, `The file was rejected: ${issues.length} problem(s); nothing was stored.`);
  }
  return events;
}

function readRecords(text: string) {
  try {
    return [...parseCsv(text)];
  } catch (err) {
    if (err instanceof CsvSyntaxError)
      throw validationError([{ path: `line ${err.line}`, message: err.message }]);
    throw err;
  }
}

export async function importCsv(
  deps: { db: Db; clock: Clock },
  text: string,
  options: { map: Partial<Record<CsvField, string>>; sourceName: string },
): Promise<ImportSummary> {
  const events = parseCsvEvents(text, options, deps.clock);
  const summary: ImportSummary = {
    rows: events.length,
    accepted: 0,
    duplicates: 0,
    keys: 0,
    discovered: [],
    from: null,
    to: null,
  };
  const recorder = usageRecorderFor(deps.db, deps.clock);
  for (let i = 0; i < events.length; i += CHUNK) {
    const r = await recorder.record(events.slice(i, i + CHUNK));
    summary.accepted += r.accepted;
    summary.duplicates += r.duplicates;
    summary.discovered.push(...r.discovered.map((k) => k.name));
  }
  const keys = new Set(events.map((e) => (e.key.by === 'ref' ? e.key.value : e.key.fingerprint)));
  summary.keys = keys.size;
  for (const e of events) {
    summary.from = Math.min(summary.from ?? e.ts, e.ts);
    summary.to = Math.max(summary.to ?? e.ts, e.ts);
  }
  if (events.length > 0) await optimizeAfterBulkLoad(deps.db);
  return summary;
}
