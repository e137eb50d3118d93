/** Invoice page: the estimate of a period in money, by key and environment, and the price plan editor. */
import { api, el, empty, fmtNumber, type Issue, initPage, say, table } from '../lib/common.ts';

initPage();

type Share = { credits: number; amount: number | null };
type Estimate = {
  period: { from: string; to: string; source: 'subscription' | 'calendar' };
  currency: string | null;
  price_source: 'plan' | 'subscription' | 'credit_price' | 'none';
  credits: number;
  amount: number | null;
  bands: {
    from_credits: number;
    to_credits: number | null;
    price_per_credit: number;
    credits: number;
    amount: number;
  }[];
  forecast: { credits: number; amount: number | null; low: number | null; high: number | null };
  by_key: (Share & { key_id: string; key: string; environment: string | null })[];
  by_environment: (Share & { environment: string | null })[];
};
type Band = { from_credits: number; to_credits: number | null; price_per_credit: number };
type Plan = { currency: string; bands: Band[] };

const SOURCES: Record<Estimate['price_source'], string> = {
  plan: 'Priced with the plan set on this page.',
  subscription: 'Priced with the account’s subscription price after its discount (no plan is set here).',
  credit_price: 'Priced with KEYWATCH_CREDIT_PRICE (no plan here, no subscription price from the account).',
  none: 'No price is known: set a plan below, or KEYWATCH_CREDIT_PRICE. Amounts are left empty.',
};

const periodSelect = document.getElementById('invoice-period') as HTMLSelectElement | null;
const monthInput = document.getElementById('invoice-month') as HTMLInputElement | null;

function money(amount: number | null | undefined, currency: string | null): string {
  if (amount === null || amount === undefined || !currency) return '—';
  return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(amount);
}

const day = (isoText: string) =>
  new Intl.DateTimeFormat(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    timeZone: 'UTC',
  }).format(new Date(isoText));

function card(label: string, value: string, hint: string, id: string): HTMLElement {
  return el(
    'section',
    { class: 'card', 'aria-label': label },
    el('h2', { class: 'card-label' }, label),
    el('p', { class: 'card-value', id }, value),
    el('p', { class: 'card-hint' }, hint),
  );
}

function render(e: Estimate): void {
  const c = e.currency;
  // The server's clock decides whether the period is still running (the browser's may differ).
  const now = Date.parse(document.getElementById('invoice-cards')?.dataset.now ?? '') || Date.now();
  const open = Date.parse(e.period.from) <= now && now < Date.parse(e.period.to);
  // Periods end exclusive: the last day shown is the one before `to`.
  const last = new Date(Date.parse(e.period.to) - 1).toISOString();
  const what = e.period.source === 'subscription' ? 'Billing period' : 'Calendar month';
  document.getElementById('invoice-period-note')!.textContent =
    `${what} ${day(e.period.from)} – ${day(last)} (${e.period.source === 'subscription' ? 'the account’s own billing period' : 'calendar month in KEYWATCH_TZ'}).`;
  document
    .getElementById('invoice-cards')!
    .replaceChildren(
      card('Period to date', money(e.amount, c), `${fmtNumber(e.credits)} credits`, 'invoice-amount'),
      card(
        'Forecast to period end',
        money(e.forecast.amount, c),
        open
          ? `${fmtNumber(e.forecast.credits)} credits; likely ${money(e.forecast.low, c)}–${money(e.forecast.high, c)}`
          : 'The period is over: the forecast is what was spent.',
        'invoice-forecast',
      ),
      card(
        'Currency',
        c ?? 'none',
        e.price_source === 'none' ? 'no price known' : `price source: ${e.price_source}`,
        'invoice-currency',
      ),
    );
  document.getElementById('invoice-source')!.textContent = SOURCES[e.price_source];
  const share = (x: Share) => [
    fmtNumber(x.credits),
    money(x.amount, c),
    e.credits > 0 ? `${Math.round((x.credits / e.credits) * 100)}%` : '—',
  ];
  const byKey = e.by_key.map((k) => [
    el('a', { href: `/keys/${encodeURIComponent(k.key_id)}` }, k.key),
    k.environment ?? '—',
    ...share(k),
  ]);
  document
    .getElementById('invoice-by-key')!
    .replaceChildren(
      byKey.length
        ? table(['Key', 'Environment', 'Credits', 'Amount', 'Share'], byKey, [2, 3, 4])
        : empty('No credits spent in this period.'),
    );
  const byEnv = e.by_environment.map((x) => [x.environment ?? '(none)', ...share(x)]);
  document
    .getElementById('invoice-by-env')!
    .replaceChildren(
      byEnv.length
        ? table(['Environment', 'Credits', 'Amount', 'Share'], byEnv, [1, 2, 3])
        : empty('No credits spent in this period.'),
    );
  const bands = e.bands.map((b) => [
    `${fmtNumber(b.from_credits)} – ${b.to_credits === null ? 'no limit' : fmtNumber(b.to_credits)}`,
    String(b.price_per_credit),
    fmtNumber(b.credits),
    money(b.amount, c),
  ]);
  document
    .getElementById('invoice-bands')!
    .replaceChildren(
      bands.length
        ? table(
            ['Band (credits)', `Price per credit${c ? ` (${c})` : ''}`, 'Credits in band', 'Amount'],
            bands,
            [1, 2, 3],
          )
        : empty(
            e.price_source === 'none' ? 'No price, so no bands.' : 'Flat price for the period: no bands.',
          ),
    );
}

async function load(): Promise<void> {
  const period = monthInput?.value || periodSelect?.value || 'current';
  const r = await api<Estimate>('GET', `/api/v1/invoice/estimate?period=${encodeURIComponent(period)}`);
  if (!r.ok || !r.data) {
    document
      .getElementById('invoice-cards')!
      .replaceChildren(empty(`The estimate could not be loaded: ${r.error}`));
    return;
  }
  render(r.data);
}

// ---- the plan editor (admins); viewers see the plan as a table ----
/** Field names need a stable id per band row (rows can be removed); the legend says its place. */
let bandSeq = 0;
function bandRow(b: Band, position: number): HTMLElement {
  const i = bandSeq++;
  const input = (name: string, value: string, label: string, extra: Record<string, string> = {}) =>
    el(
      'label',
      {},
      label,
      el('input', {
        type: 'number',
        min: '0',
        step: 'any',
        name: `bands.${i}.${name}`,
        value,
        class: 'narrow',
        ...extra,
      }),
      el('span', { class: 'error-text small', id: `bands.${i}.${name}-error` }),
    );
  const remove = el('button', { type: 'button', class: 'small danger' }, 'Remove');
  const row = el(
    'fieldset',
    { class: 'band params' },
    el('legend', {}, `Band ${position + 1}`),
    input('from_credits', String(b.from_credits), 'From credits'),
    input('to_credits', b.to_credits === null ? '' : String(b.to_credits), 'To credits (blank: no limit)'),
    input('price_per_credit', String(b.price_per_credit), 'Price per credit'),
    remove,
  );
  remove.addEventListener('click', () => row.remove());
  return row;
}

function readPlan(form: HTMLFormElement): unknown {
  const value = (name: string) =>
    (form.elements.namedItem(name) as HTMLInputElement | null)?.value.trim() ?? '';
  const bands = [...form.querySelectorAll('fieldset.band')].map((f) => {
    const prefix = (f.querySelector('input')?.name ?? '').replace(/\.from_credits$/, '');
    const to = value(`${prefix}.to_credits`);
    return {
      from_credits: Number(value(`${prefix}.from_credits`)),
      to_credits: to === '' ? null : Number(to),
      price_per_credit: Number(value(`${prefix}.price_per_credit`)),
    };
  });
  return { currency: value('currency'), bands };
}

function showIssues(form: HTMLFormElement, issues: Issue[]): void {
  for (const note of form.querySelectorAll('.error-text')) note.textContent = '';
  for (const input of form.querySelectorAll('input')) input.removeAttribute('aria-invalid');
  // Bands are renumbered on the page as they are sent, so `bands.1.x` is the second fieldset.
  const names = [...form.querySelectorAll<HTMLFieldSetElement>('fieldset.band')].map((f) =>
    (f.querySelector('input')?.name ?? '').replace(/\.from_credits$/, ''),
  );
  for (const issue of issues) {
    const m = /^bands\.(\d+)\.(\w+)/.exec(issue.path);
    const name = m ? `${names[Number(m[1])]}.${m[2]}` : issue.path;
    (form.elements.namedItem(name) as HTMLInputElement | null)?.setAttribute('aria-invalid', 'true');
    const note = document.getElementById(`${name}-error`);
    if (note) note.textContent = issue.message;
  }
}

function renderPlan(box: HTMLElement, plan: Plan | null): void {
  const admin = box.dataset.admin === '1';
  if (!admin) {
    box.replaceChildren(
      plan
        ? table(
            ['From credits', 'To credits', `Price per credit (${plan.currency})`],
            plan.bands.map((b) => [
              fmtNumber(b.from_credits),
              b.to_credits === null ? 'no limit' : fmtNumber(b.to_credits),
              String(b.price_per_credit),
            ]),
          )
        : empty('No plan is set here.'),
    );
    return;
  }
  const start = plan ?? {
    currency: 'USD',
    bands: [{ from_credits: 0, to_credits: null, price_per_credit: 0.0015 }],
  };
  const bands = el('div', { id: 'plan-bands', class: 'stack' }, ...start.bands.map(bandRow));
  const add = el('button', { type: 'button', class: 'small' }, 'Add band');
  add.addEventListener('click', () => {
    const n = bands.querySelectorAll('fieldset.band').length;
    const last = bands.querySelector<HTMLInputElement>(
      'fieldset.band:last-of-type input[name$=".to_credits"]',
    );
    bands.append(
      bandRow(
        { from_credits: Number(last?.value || 0), to_credits: null, price_per_credit: 0 },
        n + Date.now(),
      ),
    );
  });
  const out = el('output', { id: 'plan-status', 'aria-live': 'polite' });
  const form = el(
    'form',
    { id: 'plan-form', class: 'panel stack' },
    el(
      'label',
      {},
      'Currency',
      el('input', { name: 'currency', value: start.currency, maxlength: '3', class: 'narrow' }),
      el('span', { class: 'error-text small', id: 'currency-error' }),
    ),
    bands,
    el(
      'div',
      { class: 'actions' },
      add,
      el('button', { type: 'submit', class: 'primary' }, 'Save plan'),
      out,
    ),
  ) as HTMLFormElement;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const r = await api<{ plan: Plan }>('PUT', '/api/v1/invoice/plan', readPlan(form));
    showIssues(form, r.issues);
    say(out, r.ok ? 'Plan saved.' : `Not saved: ${r.error}`, r.ok);
    if (r.ok) void load();
  });
  box.replaceChildren(
    ...(plan ? [] : [el('p', { class: 'muted' }, 'No plan is set here yet. Start from this one:')]),
    form,
  );
}

async function loadPlan(): Promise<void> {
  const box = document.getElementById('invoice-plan');
  if (!box) return;
  const r = await api<{ plan: Plan | null }>('GET', '/api/v1/invoice/plan');
  if (!r.ok || !r.data) return void box.replaceChildren(empty(`The plan could not be loaded: ${r.error}`));
  renderPlan(box, r.data.plan);
}

periodSelect?.addEventListener('change', () => {
  if (monthInput) monthInput.value = '';
  void load();
});
monthInput?.addEventListener('change', () => void load());
void load();
void loadPlan();
