/** Capacity: monthly and daily trends stacked by key, environment or operation; forecast; CSV. */
import { iso } from '../../server/timestamps.ts';
import { Layout, type PageContext } from '../components/layout.tsx';
import { ChartBox, CsvLink } from '../components/parts.tsx';
import type { GroupMonths } from '../queries/month-totals.ts';

export function CapacityPage({
  ctx,
  now,
  months,
}: {
  ctx: PageContext;
  now: number;
  months: Record<string, GroupMonths[]>;
}) {
  return (
    <Layout ctx={ctx} title="Capacity" active="/capacity" script="capacity">
      <div
        class="toolbar"
        id="capacity-controls"
        data-now={iso(now)}
        data-months={JSON.stringify(months)}
        data-time-zone={ctx.timeZone}
      >
        <label>
          Stack by
          <select id="capacity-group">
            <option value="key">key</option>
            <option value="environment">environment</option>
            <option value="operation">operation</option>
          </select>
        </label>
        <label>
          Daily range
          <select id="capacity-days">
            <option value="30">30 days</option>
            <option value="90">90 days</option>
            <option value="180">180 days</option>
            <option value="365">365 days</option>
          </select>
        </label>
        <CsvLink href="/export/usage.csv?step=day&group=key" label="Download daily CSV" />
        <a class="csv" id="csv-monthly" href="/export/usage.csv?step=month&group=key" download>
          Download monthly CSV
        </a>
      </div>
      <div class="grid-2">
        <ChartBox
          id="chart-monthly"
          title="Credits per calendar month"
          label="Stacked bar chart of credits per calendar month; the current month is to date"
          note={`Calendar months in ${ctx.timeZone}. The current month is partial (to date) and drawn lighter.`}
        />
        <ChartBox
          id="chart-stacked"
          title="Credits per day"
          label="Stacked bar chart of credits per day"
          note="Today so far and the whole UTC days before it, over the range picked above."
        />
      </div>
      <ChartBox
        id="chart-capacity-forecast"
        title="Period-end forecast"
        label="Cumulative credits this billing period (or calendar month) with the projected range to its end"
      />
      <section aria-labelledby="growth-h">
        <h2 id="growth-h">Month over month</h2>
        <p class="window-note">
          Growth compares whole months; the current month shows its pace: credits to date divided by the share
          of the month gone.
        </p>
        <div id="capacity-growth" aria-live="polite" />
      </section>
      <section aria-labelledby="totals-h">
        <h2 id="totals-h">Totals in the daily range</h2>
        <div id="capacity-totals" aria-live="polite" />
      </section>
    </Layout>
  );
}
