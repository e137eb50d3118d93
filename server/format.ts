/** PURE formatting of numbers, money, durations and local times, shared by emails and pages. */

/**
 * Thousands separators; with no digits given, whole numbers from 100 up and one decimal below
 * (so 0.4 credits does not read as 0, and 12,345.6 does not read as more precise than it is).
 */
export function formatNumber(n: number, maxFractionDigits?: number): string {
  const digits = maxFractionDigits ?? (Math.abs(n) >= 100 || Number.isInteger(n) ? 0 : 1);
  return numberFormat(digits).format(n);
}

// One formatter per digit count: toLocaleString builds a new one on every call, which was a third
// of the keys page's time (thousands of cells).
const formats = new Map<number, Intl.NumberFormat>();
function numberFormat(digits: number): Intl.NumberFormat {
  let f = formats.get(digits);
  if (!f) {
    f = new Intl.NumberFormat('en-US', { maximumFractionDigits: digits });
    formats.set(digits, f);
  }
  return f;
}

export function formatSigned(n: number): string {
  return `${n >= 0 ? '+' : '-'}${formatNumber(Math.abs(n), 0)}`;
}

export function formatPercent(ratio: number): string {
  return `${formatNumber(ratio * 100, 0)}%`;
}

/** "15 min", "2 h", "3 d": the length of a window, rounded for a subject line. */
export function formatDuration(ms: number): string {
  const minutes = Math.max(1, Math.round(ms / 60_000));
  if (minutes < 90) return `${minutes} min`;
  const hours = ms / 3_600_000;
  if (hours < 48) return `${formatNumber(hours, hours < 10 ? 1 : 0)} h`;
  return `${formatNumber(ms / 86_400_000, 1)} d`;
}

/** "2026-11-26 14:05 (Europe/Paris)": a local time for people, with the zone named. */
export function formatLocalTime(isoOrMs: string | number, timeZone: string, withZone = true): string {
  const date = new Date(isoOrMs);
  const text = new Intl.DateTimeFormat('sv-SE', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(date);
  return withZone ? `${text} (${timeZone})` : text;
}

/** The "…a1b2" suffix that tells keys apart without revealing them. */
export const keySuffix = (last4: string | null | undefined) => (last4 ? ` (…${last4})` : '');

// Made on first use, not when the module loads: the first Intl object a process makes loads ICU's
// data (tens of milliseconds), which `keywatch serve` need not wait for before listening.
let money: Intl.NumberFormat | undefined;

export function formatMoney(credits: number, price: number): string {
  money ??= new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });
  return money.format(credits * price);
}

export function formatCredits(n: number, price?: number): string {
  const credits = `${formatNumber(n)} credits`;
  return price === undefined ? credits : `${credits} (${formatMoney(n, price)})`;
}

/** "3 d", "2 h", "1.5 y": how old a key is, or how long since it was used. */
export function formatAge(ms: number): string {
  const days = Math.floor(ms / 86_400_000);
  if (days >= 365) return `${formatNumber(days / 365, 1)} y`;
  if (days >= 1) return `${days} d`;
  const hours = Math.floor(ms / 3_600_000);
  return hours >= 1 ? `${hours} h` : `${Math.max(0, Math.floor(ms / 60_000))} min`;
}
