/**
 * Invoice pricing: PURE. A period's credits are priced band by band (the first 100k at one price,
 * the rest at another); a subscription is a flat price per billing interval. Amounts are in the
 * currency's units (dollars, not cents), rounded to cents per band line.
 */
export type Band = { fromCredits: number; toCredits: number | null; pricePerCredit: number };

export type BandLine = {
  from_credits: number;
  to_credits: number | null;
  price_per_credit: number;
  credits: number;
  amount: number;
};

/** Where the price came from, in precedence order. */
export type PriceSource = 'plan' | 'subscription' | 'credit_price' | 'none';

export type Pricing =
  | { source: 'plan' | 'credit_price'; currency: string; bands: Band[] }
  /** The subscription's price after discount, in currency units, for one billing interval. */
  | { source: 'subscription'; currency: string; flat: number }
  | { source: 'none' };

export const toCents = (amount: number) => Math.round(amount * 100) / 100;

/** Prices `credits` band by band; bands are contiguous from 0 (the plan's schema makes sure). */
export function priceBands(credits: number, bands: Band[]): { amount: number; lines: BandLine[] } {
  const lines = bands.map((b) => {
    const upper = b.toCredits ?? Number.POSITIVE_INFINITY;
    const inBand = Math.max(0, Math.min(credits, upper) - b.fromCredits);
    return {
      from_credits: b.fromCredits,
      to_credits: b.toCredits,
      price_per_credit: b.pricePerCredit,
      credits: inBand,
      amount: toCents(inBand * b.pricePerCredit),
    };
  });
  return { amount: toCents(lines.reduce((s, l) => s + l.amount, 0)), lines };
}

/**
 * The price precedence of the contract: the plan setting, else the account's subscription price,
 * else KEYWATCH_CREDIT_PRICE (dollars per credit), else nothing to price with.
 */
export function choosePricing(options: {
  plan: { currency: string; bands: Band[] } | null;
  subscription: { currency: string | null; discountedCents: number | null } | null;
  creditPrice: number | undefined;
}): Pricing {
  if (options.plan) return { source: 'plan', ...options.plan };
  const s = options.subscription;
  if (s && s.discountedCents !== null && s.currency) {
    return { source: 'subscription', currency: s.currency, flat: s.discountedCents / 100 };
  }
  if (options.creditPrice !== undefined) {
    return {
      source: 'credit_price',
      currency: 'USD',
      bands: [{ fromCredits: 0, toCredits: null, pricePerCredit: options.creditPrice }],
    };
  }
  return { source: 'none' };
}

/**
 * The amount for `credits` in a period. A flat subscription price is charged whole for a billing
 * period and pro rata (`share` of the interval) for any other span, such as a calendar month.
 */
export function priceCredits(
  pricing: Pricing,
  credits: number,
  share = 1,
): { amount: number | null; lines: BandLine[] } {
  if (pricing.source === 'none') return { amount: null, lines: [] };
  if (pricing.source === 'subscription') return { amount: toCents(pricing.flat * share), lines: [] };
  return priceBands(credits, pricing.bands);
}

/** Splits a total amount over parts by their credits (bands price the account, not each key). */
export function shareOut<T extends { credits: number }>(
  parts: T[],
  total: number,
  amount: number | null,
): (T & { amount: number | null })[] {
  return parts.map((p) => ({
    ...p,
    amount: amount === null ? null : total > 0 ? toCents((amount * p.credits) / total) : 0,
  }));
}
