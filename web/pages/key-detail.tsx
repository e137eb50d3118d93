/** Key detail: usage with baseline band and incident markers, operations, sources, incidents, edit. */

import { DAY } from '../../server/clock.ts';
import { formatAge, formatNumber } from '../../server/format.ts';
import type { KeyView } from '../../server/keys/keys.ts';
import { iso } from '../../server/timestamps.ts';
import { Empty, Layout, type PageContext, Time } from '../components/layout.tsx';
import { Badge, ChartBox, Credits, IncidentTable } from '../components/parts.tsx';
import { lastDays } from '../components/windows.ts';
import type { IncidentView } from '../queries/incidents.ts';
import type { OperationRow, SeenRow } from '../queries/key-activity.ts';
import type { HygieneFlag } from '../queries/key-table.ts';

export type KeyDetailData = {
  key: KeyView;
  flags: HygieneFlag[];
  now: number;
  operations: OperationRow[];
  ips: SeenRow[];
  agents: SeenRow[];
  incidents: IncidentView[];
  replacements: { id: string; name: string }[];
};

/** The rotation assistant: the client fills it from GET /api/v1/keys/:id/rotation. */
function Rotation(props: { k: KeyView; replacements: { id: string; name: string }[]; admin: boolean }) {
  const { k } = props;
  return (
    <section aria-labelledby="rotation-h" id="rotation" data-key-id={k.id}>
      <h2 id="rotation-h">Rotation</h2>
      <ol class="steps muted small">
        <li>Create the new key at Magic Hour and add it on the Keys page.</li>
        <li>Pair it with this key below: this key's fading usage then raises no usage drop.</li>
        <li>Move every client listed here to the new key.</li>
        <li>Revoke this key once no client has used it for the quiet time.</li>
      </ol>
      <div id="rotation-status" aria-live="polite">
        <p class="muted">Loading rotation…</p>
      </div>
      {props.admin && k.status !== 'revoked' && (
        <form id="rotation-form" class="form-grid panel" hidden>
          <label>
            New key
            <select name="new_key_id" required>
              <option value="">choose the replacement…</option>
              {props.replacements.map((r) => (
                <option value={r.id}>{r.name}</option>
              ))}
            </select>
          </label>
          <label>
            Quiet time before revoking (minutes)
            <input name="quiet_minutes" type="number" min="1" max="43200" step="1" value="1440" />
          </label>
          <div class="actions span-2">
            <button type="submit" class="primary">
              Start rotation
            </button>
            <output id="rotation-form-status" aria-live="polite" />
          </div>
        </form>
      )}
    </section>
  );
}

function SeenTable(props: { rows: SeenRow[]; what: string; price: number | undefined }) {
  if (props.rows.length === 0) return <Empty>No {props.what} reported in the last 30 days.</Empty>;
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">{props.what}</th>
            <th scope="col" class="num">
              Requests
            </th>
            <th scope="col" class="num">
              Credits
            </th>
            <th scope="col">Last seen</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map((r) => (
            <tr>
              <td class="wrap">
                <code>{r.value}</code>
              </td>
              <td class="num">{formatNumber(r.requests)}</td>
              <td class="num">
                <Credits value={r.credits} price={props.price} />
              </td>
              <td>
                <Time at={iso(r.last_seen)} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function EditForm({ k }: { k: KeyView }) {
  return (
    <form id="key-edit" class="form-grid" data-key-id={k.id}>
      <label>
        Name <input name="name" required maxlength={100} value={k.name} />
      </label>
      <label>
        Environment <input name="environment" maxlength={50} value={k.environment ?? ''} />
      </label>
      <label>
        Owner <input name="owner" maxlength={200} value={k.owner ?? ''} />
      </label>
      <label>
        Monthly budget (credits)
        <input
          name="budget_credits"
          type="number"
          min="1"
          step="any"
          value={k.budget_credits?.toString() ?? ''}
        />
      </label>
      <label class="span-2">
        Notes{' '}
        <textarea name="notes" maxlength={2000} rows={2}>
          {k.notes ?? ''}
        </textarea>
      </label>
      <div class="actions span-2">
        <button type="submit" class="primary">
          Save changes
        </button>
        {k.status !== 'revoked' && (
          <button type="button" class="danger" id="key-revoke">
            Revoke key…
          </button>
        )}
        <output id="key-edit-status" aria-live="polite" />
      </div>
    </form>
  );
}

export function KeyDetailPage({ ctx, data }: { ctx: PageContext; data: KeyDetailData }) {
  const { key: k } = data;
  const price = ctx.creditPrice;
  const month = lastDays(data.now, 30);
  const markers = data.incidents.map((i) => ({ at: i.started_at, kind: i.kind, id: i.id }));
  return (
    <Layout ctx={ctx} title={`Key ${k.name}`} active="/keys" script="key-detail">
      <dl class="facts">
        <div>
          <dt>Status</dt>
          <dd>
            <Badge tone={k.status === 'active' ? 'ok' : k.status === 'revoked' ? 'muted' : 'bad'}>
              {k.status}
            </Badge>
          </dd>
        </div>
        <div>
          <dt>Last 4</dt>
          <dd>{k.last4 ? <code>…{k.last4}</code> : '—'}</dd>
        </div>
        <div>
          <dt>Environment</dt>
          <dd>{k.environment ?? '—'}</dd>
        </div>
        <div>
          <dt>Owner</dt>
          <dd>{k.owner ?? '—'}</dd>
        </div>
        <div>
          <dt>Age</dt>
          <dd>{formatAge(data.now - Date.parse(k.created_at))}</dd>
        </div>
        <div>
          <dt>Last used</dt>
          <dd>
            <Time at={k.last_used_at} empty="never" />
          </dd>
        </div>
        <div>
          <dt>Budget</dt>
          <dd>{k.budget_credits ? <Credits value={k.budget_credits} price={price} /> : 'none'}</dd>
        </div>
      </dl>
      {data.flags.length > 0 && (
        <ul class="flags" aria-label="Hygiene flags">
          {data.flags.map((f) => (
            <li>
              <Badge tone="warn">{f.label}</Badge>
            </li>
          ))}
        </ul>
      )}

      <div class="toolbar">
        <fieldset class="segmented" id="range-picker">
          <legend class="sr-only">Range</legend>
          {(['24h', '7d', '30d', '90d'] as const).map((r) => (
            <label>
              <input type="radio" name="range" value={r} checked={r === '30d'} /> {r}
            </label>
          ))}
        </fieldset>
        <a
          class="csv"
          href={`/export/key-usage.csv?key=${encodeURIComponent(k.id)}&step=hour&from=${iso(data.now - 30 * DAY)}&to=${iso(data.now)}`}
          download
        >
          Download usage CSV (30 days, hourly)
        </a>
      </div>
      <ChartBox
        id="chart-key"
        title="Credits, last 30 days unless another range is picked"
        label={`Credits of key ${k.name}, with its usual range and incident markers`}
        tall
        data={{ key: k.id, now: iso(data.now), markers: JSON.stringify(markers) }}
        note={`${month.note} The shaded band is the usual range: the lowest to highest value of the same weekday (or hour) in the 4 weeks before.`}
      />

      <div class="grid-2">
        <section aria-labelledby="ops-h">
          <h2 id="ops-h">Operations, last 30 days</h2>
          <p class="window-note">{month.note}</p>
          {data.operations.length === 0 ? (
            <Empty>No usage in the last 30 days.</Empty>
          ) : (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Operation</th>
                    <th scope="col" class="num">
                      Credits
                    </th>
                    <th scope="col" class="num">
                      Requests
                    </th>
                    <th scope="col" class="num">
                      Errors
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {data.operations.map((o) => (
                    <tr>
                      <td>{o.operation}</td>
                      <td class="num">
                        <Credits value={o.credits} price={price} />
                      </td>
                      <td class="num">{formatNumber(o.requests)}</td>
                      <td class="num">{formatNumber(o.errors)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
        <section aria-labelledby="inc-h">
          <h2 id="inc-h">Incidents</h2>
          <IncidentTable
            incidents={data.incidents}
            price={price}
            caption={`Incidents of key ${k.name}`}
            empty="No incidents for this key."
          />
        </section>
      </div>
      <div class="grid-2">
        <section aria-labelledby="ips-h">
          <h2 id="ips-h">Source IPs, last 30 days</h2>
          <p class="window-note">{month.note}</p>
          <SeenTable rows={data.ips} what="IP address" price={price} />
        </section>
        <section aria-labelledby="ua-h">
          <h2 id="ua-h">User agents, last 30 days</h2>
          <p class="window-note">{month.note}</p>
          <SeenTable rows={data.agents} what="User agent" price={price} />
        </section>
      </div>
      <Rotation k={k} replacements={data.replacements} admin={ctx.session.role === 'admin'} />
      {ctx.session.role === 'admin' && (
        <section aria-labelledby="edit-h">
          <h2 id="edit-h">Edit labels and budget</h2>
          <EditForm k={k} />
        </section>
      )}
    </Layout>
  );
}
