/** Overview: spend today and this period, budget and forecast, runway, plan, top keys, incidents, freshness. */
import type { AccountView } from '../../server/account/view.ts';
import { DAY } from '../../server/clock.ts';
import { formatNumber } from '../../server/format.ts';
import type { SourceFreshness } from '../../server/ingest/health.ts';
import { iso } from '../../server/timestamps.ts';
import { planHeadline, priceText, renewalText } from '../components/account-plan.tsx';
import { Empty, Layout, type PageContext, Time } from '../components/layout.tsx';
import { Card, CardCredits, ChartBox, Credits, FreshnessTable, IncidentTable } from '../components/parts.tsx';
import type { IncidentView } from '../queries/incidents.ts';
import type { KeySpend } from '../queries/spend.ts';

export type OverviewData = {
  now: number;
  today: number;
  /** Credits in the budget period: the billing period, else the calendar month. */
  month: number;
  monthStart: number;
  account: AccountView;
  unattributed: { credits: number; events: number };
  topKeys: KeySpend[];
  openIncidents: IncidentView[];
  freshness: SourceFreshness[];
};

export function OverviewPage({ ctx, data }: { ctx: PageContext; data: OverviewData }) {
  const price = ctx.creditPrice;
  const from = iso(Math.floor(data.now / DAY) * DAY - 29 * DAY);
  const billing = data.account.budget.source === 'subscription';
  const planHint = [priceText(data.account), renewalText(data.account, ctx.timeZone)]
    .filter(Boolean)
    .join(' · ');
  return (
    <Layout ctx={ctx} title="Overview" active="/" script="overview">
      <div class="cards">
        <Card label="Credits today" hint="Since midnight (server time zone)">
          <CardCredits value={data.today} price={price} />
        </Card>
        <Card
          label={billing ? 'Credits this billing period' : 'Credits this month'}
          id="month-spent"
          hint={<span id="budget-hint">Budget: loading…</span>}
        >
          <CardCredits value={data.month} price={price} />
        </Card>
        <Card
          label={billing ? 'Period-end forecast' : 'Month-end forecast'}
          id="forecast-value"
          hint={<span id="forecast-band">Loading forecast…</span>}
        >
          <span class="muted">—</span>
        </Card>
        <Card label="Runway" id="runway-value" hint={<span id="runway-hint">From the account balance</span>}>
          <span class="muted">—</span>
        </Card>
        <Card
          label="Plan"
          id="plan-value"
          hint={
            <span id="plan-hint">
              {data.account.snapshot
                ? planHint || 'Calendar months for budgets and forecasts'
                : 'Account endpoint not answering'}
            </span>
          }
        >
          <a href="/settings#account-h">{planHeadline(data.account)}</a>
        </Card>
        <Card label="Open incidents">
          <a href="/incidents?state=open">{formatNumber(data.openIncidents.length)}</a>
        </Card>
        <Card label="Unattributed spend, 30 days" hint="Credits no known key explains">
          <CardCredits value={data.unattributed.credits} price={price} />
        </Card>
      </div>

      <div class="grid-2">
        <ChartBox
          id="chart-daily"
          title="Credits per day, last 30 days"
          label="Bar chart of credits spent per day over the last 30 days"
          data={{ from, to: iso(data.now) }}
        />
        <ChartBox
          id="chart-forecast"
          title={
            billing
              ? 'This billing period: spend to date and period-end forecast'
              : 'This month: spend to date and month-end forecast'
          }
          label={`Cumulative credits this ${billing ? 'billing period' : 'month'} with the projected ${billing ? 'period-end' : 'month-end'} range`}
        />
      </div>

      <div class="grid-2">
        <section aria-labelledby="top-keys-h">
          <h2 id="top-keys-h">Top keys, last 7 days</h2>
          {data.topKeys.length === 0 ? (
            <Empty>
              No usage recorded yet — point your apps at /gw/magichour or push events to /api/v1/usage.
            </Empty>
          ) : (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Key</th>
                    <th scope="col">Environment</th>
                    <th scope="col" class="num">
                      Credits
                    </th>
                    <th scope="col" class="num">
                      Requests
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {data.topKeys.map((k) => (
                    <tr>
                      <td>
                        <a href={`/keys/${encodeURIComponent(k.id)}`}>{k.name}</a>
                      </td>
                      <td>{k.environment ?? <span class="muted">—</span>}</td>
                      <td class="num">
                        <Credits value={k.credits} price={price} />
                      </td>
                      <td class="num">{formatNumber(k.requests)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
        <section aria-labelledby="fresh-h">
          <h2 id="fresh-h">Data freshness</h2>
          <FreshnessTable rows={data.freshness} />
        </section>
      </div>

      <section aria-labelledby="open-h">
        <h2 id="open-h">Open incidents</h2>
        <IncidentTable
          incidents={data.openIncidents.slice(0, 10)}
          price={price}
          caption="Open incidents, newest first"
          empty="No open incidents. Detection runs every minute on new usage."
        />
      </section>
      <p class="muted small" id="period-note">
        {data.account.note} {billing ? 'Period' : 'Month'} started <Time at={iso(data.monthStart)} />.
      </p>
    </Layout>
  );
}
