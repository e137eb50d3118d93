/** Invoice: the period's credits in money (to date and forecast), per key and environment, and the price plan. */
import { iso } from '../../server/timestamps.ts';
import { Layout, type PageContext } from '../components/layout.tsx';

export function InvoicePage({ ctx, now }: { ctx: PageContext; now: number }) {
  const admin = ctx.session.role === 'admin';
  return (
    <Layout ctx={ctx} title="Invoice estimate" active="/invoice" script="invoice">
      <div class="toolbar">
        <label>
          Period
          <select id="invoice-period">
            <option value="current">this period</option>
            <option value="previous">previous period</option>
          </select>
        </label>
        <label>
          or a calendar month <input type="month" id="invoice-month" />
        </label>
      </div>
      <p class="window-note" id="invoice-period-note" aria-live="polite" />
      <div class="cards" id="invoice-cards" aria-live="polite" data-now={iso(now)}>
        <p class="muted">Loading the estimate…</p>
      </div>
      <p id="invoice-source" class="notice" />
      <div class="grid-2">
        <section aria-labelledby="by-key-h">
          <h2 id="by-key-h">By key</h2>
          <div id="invoice-by-key" />
        </section>
        <section aria-labelledby="by-env-h">
          <h2 id="by-env-h">By environment</h2>
          <div id="invoice-by-env" />
        </section>
      </div>
      <section aria-labelledby="bands-h">
        <h2 id="bands-h">Price bands this period</h2>
        <div id="invoice-bands" />
      </section>
      <section aria-labelledby="plan-h">
        <h2 id="plan-h">Price plan</h2>
        <p class="muted small">
          The plan set here wins over the account's subscription price, which wins over KEYWATCH_CREDIT_PRICE.
          Bands run from 0 without gaps; the last one may have no upper limit.
        </p>
        <div id="invoice-plan" data-admin={admin ? '1' : ''} />
      </section>
    </Layout>
  );
}
