/** One incident: what was seen and expected, its window chart, signals, what to do, and people's actions. */

import { observedSpan } from '../../server/alerts/render-incident.ts';
import { formatNumber } from '../../server/format.ts';
import { bandName } from '../../server/incidents/band-name.ts';
import { whatToDo } from '../../server/incidents/what-to-do.ts';
import { Empty, Layout, type PageContext, Time } from '../components/layout.tsx';
import { ChartBox, Credits, SeverityBadge, StateBadge } from '../components/parts.tsx';
import { type IncidentView, kindLabel } from '../queries/incidents.ts';
import { chartNote, incidentChartSpec } from './incident-chart.ts';

const FEEDBACK = [
  ['false_positive', 'False positive'],
  ['expected', 'Expected activity'],
  ['new_normal', 'New normal'],
] as const;

function Actions({ incident }: { incident: IncidentView }) {
  return (
    <section aria-labelledby="actions-h" class="panel">
      <h2 id="actions-h">Actions</h2>
      <form id="incident-actions" class="stack" data-incident-id={incident.id}>
        <label>
          Note (optional) <input name="note" maxlength={500} />
        </label>
        <div class="actions">
          <button type="button" class="primary" data-action="ack" disabled={incident.state !== 'open'}>
            Acknowledge
          </button>
          <label class="inline">
            Snooze for
            <select name="minutes">
              <option value="60">1 hour</option>
              <option value="240">4 hours</option>
              <option value="1440">1 day</option>
              <option value="10080">1 week</option>
            </select>
          </label>
          <button type="button" data-action="snooze" disabled={incident.state === 'resolved'}>
            Snooze
          </button>
          <button type="button" data-action="resolve" disabled={incident.state === 'resolved'}>
            Resolve
          </button>
        </div>
        <div class="actions">
          <label class="inline">
            Feedback
            <select name="feedback">
              {FEEDBACK.map(([v, l]) => (
                <option value={v} selected={incident.feedback === v}>
                  {l}
                </option>
              ))}
            </select>
          </label>
          <button type="button" data-action="feedback">
            Send feedback
          </button>
        </div>
        <output id="incident-status" aria-live="polite" />
      </form>
    </section>
  );
}

const asList = (v: unknown): string[] =>
  Array.isArray(v) ? v.map(String) : v === undefined || v === null ? [] : [String(v)];

/** What made a key look exposed in client-side code: origins, browsers, raw agents, networks. */
function ExposureEvidence({ incident }: { incident: IncidentView }) {
  const s = incident.signals.find((x) => x.kind === 'client_exposure');
  const ev = s && 'evidence' in s ? (s.evidence as Record<string, unknown>) : undefined;
  if (!ev) return null;
  const rows: [string, string[]][] = [
    ['Origins (web pages that called the API)', asList(ev.origins)],
    ['Browsers', asList(ev.browsers)],
    ['User agents (sample)', asList(ev.user_agents)],
    [
      `Networks in ${formatNumber(Number(ev.window_hours ?? 24))} h`,
      [`${formatNumber(Number(ev.networks ?? 0))} (usually ${formatNumber(Number(ev.usual_networks ?? 0))})`],
    ],
  ];
  return (
    <section aria-labelledby="evidence-h">
      <h2 id="evidence-h">Client-side exposure evidence</h2>
      <dl class="facts" id="incident-evidence">
        {rows
          .filter(([, values]) => values.length > 0)
          .map(([label, values]) => (
            <div>
              <dt>{label}</dt>
              <dd>{values.join(', ')}</dd>
            </div>
          ))}
      </dl>
    </section>
  );
}

export function IncidentDetailPage({ ctx, incident: i }: { ctx: PageContext; incident: IncidentView }) {
  const price = ctx.creditPrice;
  const c = i.details.contributors ?? {};
  return (
    <Layout
      ctx={ctx}
      title={`${kindLabel(i.kind)}${i.key ? ` on ${i.key}` : ''}`}
      active="/incidents"
      script="incident-detail"
    >
      <p class="lead">{i.summary}</p>
      <dl class="facts" id="incident-facts">
        <div>
          <dt>State</dt>
          <dd id="incident-state">
            <StateBadge state={i.state} />
          </dd>
        </div>
        <div>
          <dt>Severity</dt>
          <dd>
            <SeverityBadge severity={i.severity} />
          </dd>
        </div>
        <div>
          <dt>Key</dt>
          <dd>
            {i.key_id ? (
              <a href={`/keys/${encodeURIComponent(i.key_id)}`}>{i.key}</a>
            ) : i.subject.startsWith('network:') ? (
              `unknown keys from ${i.subject.slice('network:'.length)}`
            ) : (
              'account'
            )}
          </dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd>
            <Time at={i.started_at} />
          </dd>
        </div>
        <div>
          <dt>Detected</dt>
          <dd id="incident-detected">{detectionDelay(i)}</dd>
        </div>
        <div>
          <dt>Last seen</dt>
          <dd>
            <Time at={i.last_seen_at} />
          </dd>
        </div>
        <div>
          <dt>Observed / expected</dt>
          <dd>
            {formatNumber(i.observed)} / {formatNumber(i.expected)}{' '}
            {(i.details.unit ?? '').replace(/_/g, ' ')}
            {i.details.peak_window && ` in ${observedSpan(i)}`}
          </dd>
        </div>
        <div>
          <dt>Impact</dt>
          <dd>
            <Credits value={i.impact_credits} price={price} />
          </dd>
        </div>
        <div>
          <dt>Acknowledged</dt>
          <dd id="incident-ack">
            {i.acknowledged_by ? (
              <>
                {i.acknowledged_by}, <Time at={i.acknowledged_at} />
              </>
            ) : (
              'not yet'
            )}
          </dd>
        </div>
        {i.snoozed_until && (
          <div>
            <dt>Snoozed until</dt>
            <dd>
              <Time at={i.snoozed_until} />
            </dd>
          </div>
        )}
        {i.note && (
          <div>
            <dt>Note</dt>
            <dd>{i.note}</dd>
          </div>
        )}
      </dl>
      <IncidentChart incident={i} />
      <ExposureEvidence incident={i} />
      {i.signals.length > 1 && (
        <section aria-labelledby="signals-h">
          <h2 id="signals-h">Signals in this incident</h2>
          <table id="incident-signals">
            <caption class="sr-only">
              Every kind of finding that joined this incident while it was open
            </caption>
            <thead>
              <tr>
                <th scope="col">Signal</th>
                <th scope="col">Severity</th>
                <th scope="col">Started</th>
                <th scope="col">What was seen</th>
              </tr>
            </thead>
            <tbody>
              {i.signals.map((s) => (
                <tr>
                  <td>{kindLabel(s.kind)}</td>
                  <td>{s.severity}</td>
                  <td>
                    <Time at={s.started_at} />
                  </td>
                  <td>{s.summary}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
      <div class="grid-2">
        <section aria-labelledby="why-h">
          <h2 id="why-h">Why this fired</h2>
          <WhyItFired incident={i} />
          {c.operations && c.operations.length > 0 && (
            <>
              <h3>Top operations</h3>
              <ul>
                {c.operations.map((o) => (
                  <li>
                    {o.name}: <Credits value={o.credits} price={price} />, {formatNumber(o.requests)} requests
                  </li>
                ))}
              </ul>
            </>
          )}
          {c.ips && c.ips.length > 0 && (
            <>
              <h3>Source IPs</h3>
              <ul>
                {c.ips.map((o) => (
                  <li>
                    <code>{o.value}</code>: {formatNumber(o.requests)} requests
                  </li>
                ))}
              </ul>
            </>
          )}
          {c.user_agents && c.user_agents.length > 0 && (
            <>
              <h3>User agents</h3>
              <ul>
                {c.user_agents.map((o) => (
                  <li>
                    <code>{o.value}</code>: {formatNumber(o.requests)} requests
                  </li>
                ))}
              </ul>
            </>
          )}
          <WhatToDo incident={i} />
        </section>
        {ctx.session.role === 'admin' ? <Actions incident={i} /> : <section />}
      </div>
    </Layout>
  );
}

/** The chart of what the detector judged, in its unit and bucket, with a plain caption. */
function IncidentChart({ incident }: { incident: IncidentView }) {
  const spec = incidentChartSpec(incident);
  if (!spec) {
    return (
      <p class="muted" id="chart-incident-note">
        No chart for this incident: what the detector counted is not one key's usage. The numbers are in the
        summary above.
      </p>
    );
  }
  const band = spec.high !== null && spec.high > 0;
  return (
    <>
      <ChartBox
        id="chart-incident"
        title={`${spec.axis_title} around the incident`}
        label={`${spec.axis_title} around the incident window${band ? `; shaded: ${spec.band_label}` : ''}.`}
        tall
        data={{ spec: JSON.stringify(spec) }}
      />
      <p class="muted" id="chart-incident-note">
        {chartNote(spec)}
      </p>
    </>
  );
}

/** Observed against usual, in the detector's own unit and window, in the same words as the email. */
function WhyItFired({ incident: i }: { incident: IncidentView }) {
  const unit = (i.details.unit ?? 'credits').replace(/_/g, ' ');
  const b = i.details.baseline;
  const range =
    b?.low !== undefined && b.high !== undefined && b.high > 0
      ? `${formatNumber(b.low)}–${formatNumber(b.high)}`
      : null;
  return (
    <p id="incident-why">
      Observed <strong>{formatNumber(i.observed)}</strong> {unit} against about{' '}
      <strong>{formatNumber(i.expected)}</strong> usual
      {range && ` (${bandName(b?.method)}: ${range})`}.
    </p>
  );
}

/** The same steps as the incident's emails (incidents/what-to-do.ts), for its current severity. */
function WhatToDo({ incident }: { incident: IncidentView }) {
  const steps = whatToDo(incident.kind, incident.severity);
  if (steps.length === 0) return <Empty>No recommended actions for this incident.</Empty>;
  return (
    <>
      <h3 id="todo-h">What to do</h3>
      <ol id="incident-todo" aria-labelledby="todo-h">
        {steps.map((a) => (
          <li>{a}</li>
        ))}
      </ol>
    </>
  );
}

/** "4 min after it started": the detection delay, the same live and in a replay. */
function detectionDelay(i: IncidentView): string {
  const minutes = Math.max(0, Math.round((Date.parse(i.detected_at) - Date.parse(i.started_at)) / 60_000));
  if (minutes < 120) return `${minutes} min after it started`;
  return `${formatNumber(minutes / 60, 1)} h after it started`;
}
