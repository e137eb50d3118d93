/** Capacity: monthly and daily trends stacked by key, environment or operation; forecast; CSV. */
import { iso } from '../../server/timestamps.ts';
import { Layout, type PageContext } from '../components/layout.tsx';
import { ChartBox, CsvLink } from '../components/parts.tsx';

export function CapacityPage({ ctx, now }: { ctx: PageContext; now: number }) {
  return (
    <Layout ctx={ctx} title="Capacity" active="/capacity" script="capacity">
      <div class="toolbar" id="capacity-controls" data-now={iso(now)}>
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
          title="Credits per month"
          label="Stacked bar chart of credits per month"
        />
        <ChartBox id="chart-stacked" title="Credits per day" label="Stacked bar chart of credits per day" />
      </div>
      <ChartBox
        id="chart-capacity-forecast"
        title="Period-end forecast"
        label="Cumulative credits this billing period (or calendar month) with the projected range to its end"
      />
      <section aria-labelledby="totals-h">
        <h2 id="totals-h">Totals in the daily range</h2>
        <div id="capacity-totals" aria-live="polite" />
      </section>
    </Layout>
  );
}
