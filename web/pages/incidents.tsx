/** Incidents: the filterable list (one incident's page is incident-detail.tsx). */

import { INCIDENT_STATES } from '../../server/db/schema/index.ts';
import { formatNumber } from '../../server/format.ts';
import { Layout, type PageContext } from '../components/layout.tsx';
import { CsvLink, IncidentTable } from '../components/parts.tsx';
import { INCIDENT_KINDS, type IncidentView, kindLabel } from '../queries/incidents.ts';

export type IncidentFilterForm = { state: string; kind: string; key: string; days: string };

export function IncidentsPage(props: {
  ctx: PageContext;
  incidents: IncidentView[];
  filter: IncidentFilterForm;
  keys: { id: string; name: string }[];
}) {
  const { filter } = props;
  const query = new URLSearchParams(Object.entries(filter).filter(([, v]) => v)).toString();
  return (
    <Layout ctx={props.ctx} title="Incidents" active="/incidents" script="incidents">
      <form method="get" action="/incidents" class="filters" aria-label="Filter incidents">
        <label>
          State
          <select name="state">
            <option value="">any</option>
            {INCIDENT_STATES.map((s) => (
              <option value={s} selected={filter.state === s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Kind
          <select name="kind">
            <option value="">any</option>
            {INCIDENT_KINDS.map((k) => (
              <option value={k} selected={filter.kind === k}>
                {kindLabel(k)}
              </option>
            ))}
          </select>
        </label>
        <label>
          Key
          <select name="key">
            <option value="">any</option>
            {props.keys.map((k) => (
              <option value={k.id} selected={filter.key === k.id}>
                {k.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Period
          <select name="days">
            {['7', '30', '90', '365'].map((d) => (
              <option value={d} selected={filter.days === d}>
                last {d} days
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Apply</button>
        <CsvLink href={`/export/incidents.csv?${query}`} label="Download CSV" />
      </form>
      <p class="muted">
        {formatNumber(props.incidents.length)}{' '}
        {props.incidents.length === 1 ? 'incident matches' : 'incidents match'}.
      </p>
      <IncidentTable
        incidents={props.incidents}
        price={props.ctx.creditPrice}
        caption="Incidents matching the filter, newest first"
        empty="No incidents match. Detection runs on new usage every minute; loosen the filter to see older ones."
      />
    </Layout>
  );
}
