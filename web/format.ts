/** Server-side number formatting: thousands separators, credits and money. Pure. */
const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });
const money = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });

export const formatNumber = (n: number) =>
  (Math.abs(n) >= 100 || Number.isInteger(n) ? integer : decimal).format(n);

export const formatMoney = (credits: number, price: number) => money.format(credits * price);

export function formatCredits(n: number, price?: number): string {
  const credits = `${formatNumber(n)} credits`;
  return price === undefined ? credits : `${credits} (${money.format(n * price)})`;
}

export function formatAge(ms: number): string {
  const days = Math.floor(ms / 86_400_000);
  if (days >= 365) return `${decimal.format(days / 365)} y`;
  if (days >= 1) return `${days} d`;
  const hours = Math.floor(ms / 3_600_000);
  return hours >= 1 ? `${hours} h` : `${Math.max(0, Math.floor(ms / 60_000))} min`;
}
