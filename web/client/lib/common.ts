/** Shared by every page script: API calls with the CSRF token, formatting, the time zone toggle. */

export type Issue = { path: string; message: string };
export type ApiResult<T> = {
  ok: boolean;
  status: number;
  data: T | null;
  error: string | null;
  /** Validation issues of a 400, each naming its field (`params.floor_credits`). */
  issues: Issue[];
};

const csrf = () => document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')?.content ?? '';

/** Calls a same-origin JSON endpoint with the session cookie; never throws. */
export async function api<T>(method: string, path: string, body?: unknown): Promise<ApiResult<T>> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') headers['x-csrf-token'] = csrf();
  if (body !== undefined) headers['content-type'] = 'application/json';
  try {
    const res = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    type ErrorBody = { error?: { message?: string; issues?: { path: string; message: string }[] } };
    const json = (await res.json().catch(() => null)) as (T & ErrorBody) | null;
    // Name the fields a validation error is about, so the person knows what to change.
    const issues = json?.error?.issues?.map((i) => `${i.path}: ${i.message}`).join('; ');
    const message = json?.error?.message ?? `${res.status} ${res.statusText}`;
    const error = res.ok ? null : issues ? `${message} (${issues})` : message;
    const found = res.ok ? [] : (json?.error?.issues ?? []);
    return { ok: res.ok, status: res.status, data: res.ok ? json : null, error, issues: found };
  } catch (err) {
    return {
      ok: false,
      status: 0,
      data: null,
      error: `Network error: ${(err as Error).message}`,
      issues: [],
    };
  }
}

export const isAdmin = () => document.body.dataset.role === 'admin';

const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const money = new Intl.NumberFormat(undefined, { style: 'currency', currency: 'USD' });

export const fmtNumber = (n: number) =>
  (Math.abs(n) >= 100 || Number.isInteger(n) ? integer : decimal).format(n);

export function creditPrice(): number | undefined {
  const raw = document.body.dataset.creditPrice;
  return raw ? Number(raw) : undefined;
}

export const fmtMoney = (amount: number) => money.format(amount);

export function fmtCredits(n: number): string {
  const price = creditPrice();
  return `${fmtNumber(n)} credits${price === undefined ? '' : ` (${money.format(n * price)})`}`;
}

// ---- time zone: UTC or the browser's, remembered in localStorage ----
const TZ_KEY = 'kw-tz';
export type ZoneMode = 'utc' | 'local';
export const zoneMode = (): ZoneMode => (localStorage.getItem(TZ_KEY) === 'local' ? 'local' : 'utc');
const zoneOption = () => (zoneMode() === 'utc' ? { timeZone: 'UTC' } : {});

export function fmtTime(iso: string | number, style: 'minute' | 'hour' | 'day' | 'month' = 'minute'): string {
  const d = new Date(iso);
  const options: Intl.DateTimeFormatOptions =
    style === 'month'
      ? { year: 'numeric', month: 'short' }
      : style === 'day'
        ? { month: 'short', day: 'numeric' }
        : { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
  return new Intl.DateTimeFormat(undefined, { ...options, ...zoneOption() }).format(d);
}

function zoneLabel(): string {
  if (zoneMode() === 'utc') return 'UTC';
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  // A browser that itself runs on UTC still gets a label that shows the toggle did something.
  return zone === 'UTC' ? 'UTC (browser)' : zone;
}

function renderTime(t: HTMLTimeElement): void {
  t.textContent = `${fmtTime(t.dateTime)}${zoneMode() === 'utc' ? ' UTC' : ''}`;
  t.title = new Date(t.dateTime).toISOString();
}

function renderTimes(): void {
  for (const t of document.querySelectorAll<HTMLTimeElement>('time[data-kw-time]')) renderTime(t);
}

/** Creates a <time> element that follows the zone toggle. */
export function timeEl(iso: string | null | undefined, empty = '—'): HTMLElement {
  if (!iso) return el('span', { class: 'muted' }, empty);
  const t = el('time', { datetime: iso, 'data-kw-time': '' }) as HTMLTimeElement;
  renderTime(t);
  return t;
}

/** Page start: wire the zone toggle and rewrite server-rendered times. */
export function initPage(): void {
  const button = document.getElementById('tz-toggle');
  const label = () => {
    if (button) {
      button.textContent = `Times: ${zoneLabel()}`;
      button.setAttribute('aria-label', `Times shown in ${zoneLabel()}; switch`);
    }
  };
  button?.addEventListener('click', () => {
    localStorage.setItem(TZ_KEY, zoneMode() === 'utc' ? 'local' : 'utc');
    label();
    renderTimes();
    document.dispatchEvent(new CustomEvent('kw:zone'));
  });
  label();
  renderTimes();
}

// ---- tiny DOM helpers (textContent only: no HTML strings, so nothing can inject markup) ----
type Attrs = Record<string, string | undefined>;
export function el(
  tag: string,
  attrs: Attrs = {},
  ...children: (Node | string | null | undefined)[]
): HTMLElement {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) node.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

export function table(headers: string[], rows: (Node | string)[][], numeric: number[] = []): HTMLElement {
  const head = el(
    'tr',
    {},
    ...headers.map((h, i) => el('th', { scope: 'col', class: numeric.includes(i) ? 'num' : undefined }, h)),
  );
  const body = rows.map((r) =>
    el('tr', {}, ...r.map((c, i) => el('td', { class: numeric.includes(i) ? 'num' : undefined }, c))),
  );
  return el('div', { class: 'table-wrap' }, el('table', {}, el('thead', {}, head), el('tbody', {}, ...body)));
}

export function empty(message: string): HTMLElement {
  return el('p', { class: 'empty' }, message);
}

export function badge(tone: string, text: string): HTMLElement {
  return el('span', { class: `badge badge-${tone}` }, text);
}

/** Writes a status line into an <output>; errors get the error style. */
export function say(target: Element | null, message: string, ok = true): void {
  if (!target) return;
  target.textContent = message;
  target.classList.toggle('error-text', !ok);
}
