/** Overview: spend today and this period, budget and forecast, runway, plan, top keys, incidents, freshness. */
import type { AccountView } from '../../server/account/view.ts';
import { formatNumber } from '../../server/format.ts';
import type { SourceFreshness } from '../../server/ingest/health.ts';
import { iso } from '../../server/timestamps.ts';
import { planHeadline, priceText, renewalText } from '../components/account-plan.tsx';
import { Empty, Layout, type PageContext, Time } from '../components/layout.tsx';
import { Card, CardCredits, ChartBox, Credits, FreshnessTable, IncidentTable } from '../components/parts.tsx';
import { lastDays } from '../components/windows.ts';
import type { IncidentView } from '../queries/incidents.ts';
import type { GroupMonths } from '../queries/month-totals.ts';
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
  /** Per key, credits in the last three calendar months of KEYWATCH_TZ (the current one to date). */
  months: GroupMonths[];
  openIncidents: IncidentView[];
  freshness: SourceFreshness[];
};

export function OverviewPage({ ctx, data }: { ctx: PageContext; data: OverviewData }) {
  const price = ctx.creditPrice;
  const days30 = lastDays(data.now, 30);
  const days7 = lastDays(data.now, 7);
  const from = iso(days30.from);
  const billing = data.account.budget.source === 'subscription';
  const planHint = [priceText(data.account), renewalText(data.account, ctx.timeZone)]
    .filter(Boolean)
    .join(' · ');
  return (
    <Layout ctx={ctx} title="Overview" active="/" script="overview">
      <div class="cards">
        <Card label="Credits today" hint={`Since midnight ${ctx.timeZone}`}>
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
        <Card label="Unattributed spend, last 30 days" hint={`Credits no known key explains. ${days30.note}`}>
          <CardCredits value={data.unattributed.credits} price={price} />
        </Card>
      </div>

      <div class="grid-2">
        <ChartBox
          id="chart-daily"
          title="Credits per day, last 30 days"
          label="Bar chart of credits spent per day over the last 30 days"
          data={{ from, to: iso(data.now) }}
          note={days30.note}
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

      <div>
        <section aria-labelledby="top-keys-h">
          <h2 id="top-keys-h">Top keys, last 7 days</h2>
          <p class="window-note">{days7.note}</p>
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
                    <th scope="col" class="wide-only">
                      Environment
                    </th>
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
                      <td class="wide-only">{k.environment ?? <span class="muted">—</span>}</td>
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

      <MonthByKey months={data.months} price={price} timeZone={ctx.timeZone} />

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

const monthName = (label: string) =>
  new Intl.DateTimeFormat('en-US', { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(
    new Date(`${label}-15T00:00:00Z`),
  );

/** What billing owners ask first: which key spent what in each calendar month. */
function MonthByKey(props: { months: GroupMonths[]; price: number | undefined; timeZone: string }) {
  const columns = props.months[0]?.months ?? [];
  const totals = columns.map((_, i) => props.months.reduce((s, g) => s + (g.months[i]?.credits ?? 0), 0));
  return (
    <section aria-labelledby="months-h">
      <h2 id="months-h">Credits by key per calendar month</h2>
      <p class="window-note">
        Calendar months in {props.timeZone}; the current month counts to now and is marked “to date”.
      </p>
      {props.months.length === 0 ? (
        <Empty>No usage in the last three months.</Empty>
      ) : (
        <div class="table-wrap">
          <table id="month-by-key">
            <caption class="sr-only">Credits per key in each of the last three calendar months</caption>
            <thead>
              <tr>
                <th scope="col">Key</th>
                {columns.map((m, i) => (
                  <th scope="col" class={i === 0 && columns.length > 2 ? 'num wide-only' : 'num'}>
                    {monthName(m.month)}
                    {m.partial ? ' (to date)' : ''}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {props.months.map((g) => (
                <tr>
                  <th scope="row">
                    {g.key_id ? <a href={`/keys/${encodeURIComponent(g.key_id)}`}>{g.group}</a> : g.group}
                  </th>
                  {g.months.map((m, i) => (
                    <td class={i === 0 && g.months.length > 2 ? 'num wide-only' : 'num'}>
                      <Credits value={m.credits} price={props.price} />
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
            <tfoot>
              <tr>
                <th scope="row">All keys</th>
                {totals.map((t, i) => (
                  <td class={i === 0 && totals.length > 2 ? 'num wide-only' : 'num'}>
                    <Credits value={t} price={props.price} />
                  </td>
                ))}
              </tr>
            </tfoot>
          </table>
        </div>
      )}
    </section>
  );
}
