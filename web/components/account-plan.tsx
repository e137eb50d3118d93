/** The account's plan as the account endpoint last described it, and which period budgets count in. */
import type { Child } from 'hono/jsx';
import { type AccountView, discountedCents } from '../../server/account/view.ts';
import { localDate } from '../../server/time-zone.ts';
import { iso } from '../../server/timestamps.ts';
import { Empty, Time } from './layout.tsx';

export function formatPrice(cents: number, currency: string | null): string {
  if (!currency) return `${(cents / 100).toFixed(2)}`;
  try {
    return new Intl.NumberFormat('en-US', { style: 'currency', currency }).format(cents / 100);
  } catch {
    return `${(cents / 100).toFixed(2)} ${currency}`;
  }
}

/** "$10.00 off and 25% off", or null without a discount. */
export function discountText(view: AccountView): string | null {
  const s = view.snapshot?.subscription;
  if (!s?.discount) return null;
  const parts = [
    s.discount.amountOffCents ? `${formatPrice(s.discount.amountOffCents, s.currency)} off` : null,
    s.discount.percentOff ? `${s.discount.percentOff}% off` : null,
  ].filter((p): p is string => p !== null);
  return parts.length ? parts.join(' and ') : null;
}

/** "$12.00 a month", or "$9.00 a month ($12.00 a month before 25% off)". */
export function priceText(view: AccountView): string | null {
  const s = view.snapshot?.subscription;
  if (!s || s.priceCents === null) return null;
  const per = s.interval === 'year' ? 'a year' : 'a month';
  const list = `${formatPrice(s.priceCents, s.currency)} ${per}`;
  const off = discountText(view);
  if (!off) return list;
  return `${formatPrice(discountedCents(s) ?? s.priceCents, s.currency)} ${per} (${list} before ${off})`;
}

const Fact = (props: { term: string; children: Child }) => (
  <div>
    <dt>{props.term}</dt>
    <dd>{props.children}</dd>
  </div>
);

/** One line for a card: plan and tier, or why there is no plan to show. */
export function planHeadline(view: AccountView): string {
  const snap = view.snapshot;
  if (!snap) return 'Unknown';
  const s = snap.subscription;
  if (!s) return snap.tier ? `${snap.tier} (no subscription)` : 'No subscription';
  return `${s.name ?? 'Subscription'}${snap.tier ? ` · ${snap.tier}` : ''}`;
}

export function renewalText(view: AccountView, timeZone: string): string | null {
  const s = view.snapshot?.subscription;
  if (!s || view.billing.source !== 'subscription') return null;
  const on = localDate(view.billing.end, timeZone);
  return s.cancelAtPeriodEnd ? `Ends ${on} (set to cancel)` : `Renews ${on}`;
}

/** The Settings section: everything the account endpoint said, and the period in use. */
export function AccountPlanSection({ view, timeZone }: { view: AccountView; timeZone: string }) {
  const snap = view.snapshot;
  const s = snap?.subscription ?? null;
  return (
    <section aria-labelledby="account-h">
      <h2 id="account-h">Account and billing period</h2>
      {!snap ? (
        <Empty>
          The Magic Hour account endpoint has not answered (set MAGICHOUR_ACCOUNT_KEY, or see Sources below),
          so budgets, forecasts and the invoice estimate count calendar months.
        </Empty>
      ) : (
        <dl class="facts" id="account-facts">
          <Fact term="Tier">{snap.tier ?? '—'}</Fact>
          <Fact term="Plan">
            {s
              ? `${s.name ?? 'unnamed'} (${s.status ?? 'status unknown'}, billed ${s.interval}ly)`
              : 'No subscription'}
          </Fact>
          <Fact term="Price">{priceText(view) ?? '—'}</Fact>
          <Fact term="Discount">{discountText(view) ?? 'None'}</Fact>
          <Fact term="Renewal">{renewalText(view, timeZone) ?? '—'}</Fact>
          <Fact term="Last read">
            <Time at={iso(snap.fetchedAt)} />
          </Fact>
        </dl>
      )}
      <p class="muted" id="period-note">
        {view.note}
      </p>
    </section>
  );
}
