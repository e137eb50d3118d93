/** PURE: the email for an incident change (opened, grew, escalated, woke, resolved), text and HTML. */

import { formatDuration, formatLocalTime, formatNumber, formatPercent, keySuffix } from '../format.ts';
import { bandName } from '../incidents/band-name.ts';
import type { IncidentDetails, IncidentView } from '../incidents/view.ts';
import { whatToDo } from '../incidents/what-to-do.ts';
import { escapeHtml, htmlPage, htmlTable, incidentUrl, type Table, textTable } from './render-html.ts';

export type NotifyReason = 'opened' | 'grew' | 'escalated' | 'woke' | 'resolved' | 'opened_resolved';

export type IncidentEmailInput = {
  incident: IncidentView;
  key: { name: string; last4: string | null; environment: string | null } | null;
  reason: NotifyReason;
  publicUrl: string;
  timeZone: string;
};

export type RenderedEmail = { subject: string; text: string; html: string };

const KIND_TITLES: Record<string, string> = {
  credit_spike: 'Credit spike',
  usage_drop: 'Usage dropped',
  sustained_elevation: 'Sustained elevated spend',
  off_hours: 'Activity at unusual hours',
  dormant_wake: 'Dormant key woke up',
  revoked_use: 'Use of a revoked key',
  auth_failures: 'Burst of authentication failures',
  discovered_key: 'Unknown key seen in traffic',
  new_source: 'New source IP or user agent',
  operation_mix: 'Unusual operation mix',
  unattributed_spend: 'Unattributed spend',
  client_exposure: 'Key exposed in client-side code',
  budget_threshold: 'Budget threshold crossed',
  budget_forecast: 'Budget forecast to be exceeded',
};

const REASON_NOTES: Record<NotifyReason, string> = {
  opened: '',
  grew: 'Its impact has at least doubled since the last notice.',
  escalated: 'Its severity has risen since the last notice.',
  woke: 'The snooze ended and the incident is still active.',
  resolved: 'This incident is resolved.',
  opened_resolved:
    'It opened and was back to normal before this notice went out: check that the use was yours.',
};

/** "auth failures", not the stored "auth_failures". */
const unitWords = (unit: string | undefined) => (unit ?? 'credits').replace(/_/g, ' ');

export const kindTitle = (kind: string) => KIND_TITLES[kind] ?? kind.replaceAll('_', ' ');

function subjectName(input: IncidentEmailInput, details: IncidentDetails): string {
  if (input.key) return `${input.key.name}${keySuffix(input.key.last4)}`;
  if (typeof details.label === 'string') return details.label;
  return 'account';
}

function windowOf(incident: IncidentView, details: IncidentDetails): { from: string; to: string } {
  return details.window ?? { from: incident.started_at ?? '', to: incident.last_seen_at ?? '' };
}

/**
 * How long the observed amount took: the window the detector judged at the peak (observed and
 * expected are sums over it), else the whole incident window.
 */
export function observedSpan(incident: IncidentView): string {
  const details = incident.details as IncidentDetails;
  const w = details.peak_window ?? windowOf(incident, details);
  return formatDuration(Math.max(60_000, Date.parse(w.to) - Date.parse(w.from)));
}

/** "42,300 credits in 15 min, 35x normal" (or the budget equivalent). */
export function describeImpact(incident: IncidentView): string {
  const details = incident.details as IncidentDetails;
  const unit = unitWords(details.unit);
  if (incident.kind === 'budget_threshold' || incident.kind === 'budget_forecast') {
    const budget = incident.expected;
    const verb = incident.kind === 'budget_forecast' ? 'forecast' : 'used';
    return `${formatPercent(budget > 0 ? incident.observed / budget : 0)} of ${formatNumber(budget)} ${unit} ${verb} (${formatNumber(incident.observed)})`;
  }
  const amount = `${formatNumber(incident.observed)} ${unit} in ${observedSpan(incident)}`;
  if (incident.expected > 0) {
    const ratio = incident.observed / incident.expected;
    return `${amount}, ${formatNumber(ratio, ratio < 10 ? 1 : 0)}x normal`;
  }
  return `${amount}, normally none`;
}

export function renderIncidentEmail(input: IncidentEmailInput): RenderedEmail {
  const { incident, reason } = input;
  const details = incident.details as IncidentDetails;
  const label =
    reason === 'resolved' || reason === 'opened_resolved' ? 'RESOLVED' : incident.severity.toUpperCase();
  const grown = reason === 'grew' ? ' (impact doubled)' : '';
  // Names come from users and traffic: a line break must not reach a header.
  const subject =
    `[Keywatch] ${label} ${subjectName(input, details)}: ${describeImpact(incident)}${grown}`.replace(
      /\s+/g,
      ' ',
    );
  const link = incidentUrl(input.publicUrl, incident.id);
  const w = windowOf(incident, details);
  const security = !incident.kind.startsWith('budget_');
  const unit = unitWords(details.unit);
  // The same list the incident page shows (incidents/what-to-do.ts); a resolved notice has none.
  const actions = reason === 'resolved' ? [] : whatToDo(incident.kind, incident.severity);
  const facts: [string, string][] = [
    ['What', kindTitle(incident.kind)],
    ['Key', input.key ? `${input.key.name}${keySuffix(input.key.last4)}` : subjectName(input, details)],
    ...(input.key?.environment ? [['Environment', input.key.environment] as [string, string]] : []),
    ['Severity', incident.severity],
    [
      security ? 'Observed' : incident.kind === 'budget_forecast' ? 'Forecast' : 'Spent',
      `${formatNumber(incident.observed)} ${unit}`,
    ],
    [security ? 'Expected' : 'Budget', `${formatNumber(incident.expected)} ${unit}${bandText(details)}`],
    ...(incident.impact_credits > 0
      ? [['Impact', `${formatNumber(incident.impact_credits)} credits`] as [string, string]]
      : []),
    [
      'Window',
      `${formatLocalTime(w.from, input.timeZone, false)} to ${formatLocalTime(w.to, input.timeZone)}`,
    ],
    ['State', incident.state],
  ];
  const tables = contributorTables(details, input.timeZone);
  const note = REASON_NOTES[reason];

  const text = [
    `${kindTitle(incident.kind)}: ${incident.summary}`,
    ...(note ? ['', note] : []),
    '',
    ...facts.map(([k, v]) => `${`${k}:`.padEnd(13)}${v}`),
    ...tables.flatMap(([title, table]) => ['', `${title}:`, textTable(table)]),
    ...(actions.length ? ['', 'What to do:', ...actions.map((a, i) => `${i + 1}. ${a}`)] : []),
    '',
    `Open incident: ${link}`,
    '',
  ].join('\n');

  const html = htmlPage(
    subject,
    [
      `<h2 style="margin-bottom:4px">${escapeHtml(kindTitle(incident.kind))}</h2>`,
      `<p>${escapeHtml(incident.summary)}</p>`,
      note ? `<p><strong>${escapeHtml(note)}</strong></p>` : '',
      htmlTable({ head: ['', ''], rows: facts }),
      ...tables.map(([title, table]) => `<h3>${escapeHtml(title)}</h3>${htmlTable(table)}`),
      actions.length
        ? `<h3>What to do</h3><ol>${actions.map((a) => `<li>${escapeHtml(a)}</li>`).join('')}</ol>`
        : '',
      `<p><a href="${escapeHtml(link)}">Open incident</a></p>`,
    ]
      .filter(Boolean)
      .join('\n'),
  );
  return { subject, text, html };
}

/** " (usual range for this hour of the week: 800–1,700)"; nothing when usual is none at all. */
function bandText(details: IncidentDetails): string {
  const b = details.baseline;
  if (!b || b.low === undefined || b.high === undefined || b.high <= 0) return '';
  const range = `${formatNumber(b.low)}–${formatNumber(b.high)}`;
  const name = bandName(b.method);
  return name === 'usual range' ? ` (usual range ${range})` : ` (${name}: ${range})`;
}

/** An hour in the configured zone, never a raw timestamp; a bare number is an hour of day (UTC). */
const hourLabel = (hour: string | number, timeZone: string) =>
  typeof hour === 'number' ? `${String(hour).padStart(2, '0')}:00 UTC` : formatLocalTime(hour, timeZone);

function contributorTables(details: IncidentDetails, timeZone: string): [string, Table][] {
  const c = details.contributors ?? {};
  const out: [string, Table][] = [];
  const top = <T>(xs: T[] | undefined) => (xs ?? []).slice(0, 5);
  if (c.operations?.length)
    out.push([
      'Top operations',
      {
        head: ['Operation', 'Credits', 'Requests'],
        rows: top(c.operations).map((o) => [o.name, formatNumber(o.credits), formatNumber(o.requests)]),
      },
    ]);
  if (c.ips?.length)
    out.push([
      'Top source IPs',
      { head: ['IP', 'Requests'], rows: top(c.ips).map((o) => [o.value, formatNumber(o.requests)]) },
    ]);
  if (c.user_agents?.length)
    out.push([
      'Top user agents',
      {
        head: ['User agent', 'Requests'],
        rows: top(c.user_agents).map((o) => [o.value, formatNumber(o.requests)]),
      },
    ]);
  if (c.hours?.length)
    out.push([
      'Busiest hours',
      {
        head: ['Hour', 'Credits'],
        rows: top(c.hours).map((o) => [hourLabel(o.hour, timeZone), formatNumber(o.credits)]),
      },
    ]);
  return out;
}
