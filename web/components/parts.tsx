/** Small building blocks shared by the pages: cards, badges, sparklines, chart frames, incident rows. */
import type { Child } from 'hono/jsx';
import { formatCredits, formatMoney, formatNumber } from '../../server/format.ts';
import type { SourceFreshness } from '../../server/ingest/health.ts';
import { iso } from '../../server/timestamps.ts';
import { type IncidentView, kindLabel } from '../queries/incidents.ts';
import { Empty, Time } from './layout.tsx';

export function Card(props: { label: string; id?: string; children: Child; hint?: Child }) {
  return (
    <section class="card" aria-label={props.label}>
      <h2 class="card-label">{props.label}</h2>
      <p class="card-value" id={props.id}>
        {props.children}
      </p>
      {props.hint && <p class="card-hint">{props.hint}</p>}
    </section>
  );
}

export function Credits(props: { value: number; price: number | undefined }) {
  return <span class="num">{formatCredits(props.value, props.price)}</span>;
}

/** Big card number: credits with a unit, and money underneath when a price is configured. */
export function CardCredits(props: { value: number; price: number | undefined }) {
  return (
    <>
      <span class="num">{formatNumber(props.value)}</span> <span class="unit">credits</span>
      {props.price !== undefined && <span class="money">{formatMoney(props.value, props.price)}</span>}
    </>
  );
}

export function Badge(props: { tone: string; children: Child }) {
  return <span class={`badge badge-${props.tone}`}>{props.children}</span>;
}

/** A 7-point inline SVG sparkline: no script needed, described for screen readers. */
export function Sparkline(props: { values: number[]; label: string }) {
  const w = 84;
  const h = 22;
  const max = Math.max(...props.values, 1);
  const step = w / Math.max(props.values.length - 1, 1);
  const points = props.values.map(
    (v, i) => `${(i * step).toFixed(1)},${(h - 2 - (v / max) * (h - 4)).toFixed(1)}`,
  );
  return (
    <svg class="spark" width={w} height={h} viewBox={`0 0 ${w} ${h}`} role="img" aria-label={props.label}>
      <polyline points={points.join(' ')} fill="none" stroke="currentColor" stroke-width="1.5" />
    </svg>
  );
}

/** A chart frame: the canvas the client script draws on, and a message slot for empty states. */
export function ChartBox(props: {
  id: string;
  title: string;
  label: string;
  data?: Record<string, string>;
  tall?: boolean;
  /** The window the chart covers, in words (see windows.ts). */
  note?: string;
}) {
  const attrs = Object.fromEntries(Object.entries(props.data ?? {}).map(([k, v]) => [`data-${k}`, v]));
  return (
    <figure class={`chart${props.tall ? ' chart-tall' : ''}`} id={`${props.id}-box`}>
      <figcaption>{props.title}</figcaption>
      <div class="chart-area">
        <canvas id={props.id} role="img" aria-label={props.label} {...attrs} />
      </div>
      <p class="empty" hidden id={`${props.id}-empty`} aria-live="polite" />
      {props.note && <p class="window-note">{props.note}</p>}
    </figure>
  );
}

const SEVERITY_TONE = { critical: 'bad', warning: 'warn', info: 'info' } as const;
const STATE_TONE = { open: 'bad', acknowledged: 'warn', snoozed: 'muted', resolved: 'ok' } as const;

export const SeverityBadge = (props: { severity: IncidentView['severity'] }) => (
  <Badge tone={SEVERITY_TONE[props.severity]}>{props.severity}</Badge>
);
export const StateBadge = (props: { state: IncidentView['state'] }) => (
  <Badge tone={STATE_TONE[props.state]}>{props.state}</Badge>
);

export function IncidentTable(props: {
  incidents: IncidentView[];
  price: number | undefined;
  empty: Child;
  caption: string;
}) {
  if (props.incidents.length === 0) return <Empty>{props.empty}</Empty>;
  return (
    <div class="table-wrap">
      <table>
        <caption class="sr-only">{props.caption}</caption>
        <thead>
          <tr>
            <th scope="col">Started</th>
            <th scope="col">Incident</th>
            <th scope="col">Key</th>
            <th scope="col" class="wide-only">
              Severity
            </th>
            <th scope="col" class="wide-only">
              State
            </th>
            <th scope="col" class="num">
              Impact
            </th>
          </tr>
        </thead>
        <tbody>
          {props.incidents.map((i) => (
            <tr>
              <td>
                <Time at={i.started_at} />
              </td>
              <td class="incident-cell">
                <a href={`/incidents/${encodeURIComponent(i.id)}`}>{kindLabel(i.kind)}</a>
                <div class="muted small">{i.summary}</div>
                <div class="phone-only">
                  <SeverityBadge severity={i.severity} /> <StateBadge state={i.state} />
                </div>
              </td>
              <td>
                {i.key_id ? (
                  <a href={`/keys/${encodeURIComponent(i.key_id)}`}>{i.key}</a>
                ) : (
                  <span class="muted">account</span>
                )}
              </td>
              <td class="wide-only">
                <SeverityBadge severity={i.severity} />
              </td>
              <td class="wide-only">
                <StateBadge state={i.state} />
              </td>
              <td class="num">{formatCredits(i.impact_credits, props.price)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function CsvLink(props: { href: string; label: string }) {
  return (
    <a class="csv" href={props.href} download>
      {props.label}
    </a>
  );
}

/** Server-known freshness per ingest source; the client replaces it with /api/v1/sources when that exists. */
export function FreshnessTable(props: { rows: SourceFreshness[] }) {
  return (
    <div id="sources" data-fallback="server">
      {props.rows.length === 0 ? (
        <Empty>No sources reporting yet — point your apps at /gw/magichour.</Empty>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Source</th>
                <th scope="col">Last event</th>
                <th scope="col" class="num">
                  Events, last hour
                </th>
              </tr>
            </thead>
            <tbody>
              {props.rows.map((s) => (
                <tr>
                  <td>{s.source}</td>
                  <td>
                    <Time at={iso(s.last_event_at)} />
                  </td>
                  <td class="num">{formatNumber(s.events_last_hour)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

export { formatNumber };
