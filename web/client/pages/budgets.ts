/** Budgets & rules page: budgets (list, create, edit, delete), rules (enable, tune), backtest preview. */
import {
  api,
  badge,
  el,
  empty,
  fmtCredits,
  fmtNumber,
  type Issue,
  initPage,
  isAdmin,
  say,
  table,
  timeEl,
} from '../lib/common.ts';

initPage();

type Budget = {
  id: number | string;
  scope: 'total' | 'key' | 'environment';
  target: string | null;
  monthly_credits: number;
  thresholds: number[];
  notify_forecast: boolean;
  spent: number;
  projected: number;
  state: string;
};
type Rule = {
  kind: string;
  enabled: boolean;
  params: Record<string, unknown>;
  defaults: Record<string, unknown>;
};
type Backtest = {
  fired: number;
  incidents: {
    key: string | null;
    kind: string;
    started_at: string;
    ended_at: string | null;
    observed: number;
    expected: number;
    severity: string;
  }[];
};

/** The budget states of the API in words a billing owner uses, with their colour. */
const STATES: Record<string, { tone: string; label: string }> = {
  ok: { tone: 'ok', label: 'On track' },
  at_risk: { tone: 'warn', label: 'Forecast over budget' },
  exceeded: { tone: 'bad', label: 'Over budget' },
};

/** Key ids to names, so a key budget reads "key prod-web", not its id. */
let keyNames = new Map<string, string>();
async function loadKeyNames(): Promise<void> {
  const r = await api<{ keys: { id: string; name: string }[] }>('GET', '/api/v1/keys');
  keyNames = new Map((r.data?.keys ?? []).map((k) => [k.id, k.name]));
}

function scopeText(b: Budget): string {
  if (b.scope === 'total') return 'Whole account';
  if (b.scope === 'key') return `Key ${keyNames.get(b.target ?? '') ?? b.target ?? ''}`;
  return `Environment ${b.target ?? ''}`;
}

function budgetActions(b: Budget): HTMLElement {
  const input = el('input', {
    type: 'number',
    min: '1',
    step: 'any',
    value: String(b.monthly_credits),
    'aria-label': `Monthly budget for ${scopeText(b)}`,
    class: 'narrow',
  }) as HTMLInputElement;
  const save = el('button', { type: 'button', class: 'small' }, 'Save');
  const remove = el('button', { type: 'button', class: 'small danger' }, 'Delete');
  const out = el('output', { 'aria-live': 'polite' });
  save.addEventListener('click', async () => {
    const r = await api('PATCH', `/api/v1/budgets/${b.id}`, { monthly_credits: Number(input.value) });
    say(out, r.ok ? 'Saved.' : (r.error ?? 'Failed'), r.ok);
    if (r.ok) void loadBudgets();
  });
  remove.addEventListener('click', async () => {
    if (!confirm('Delete this budget?')) return;
    const r = await api('DELETE', `/api/v1/budgets/${b.id}`);
    if (r.ok) void loadBudgets();
    else say(out, r.error ?? 'Failed', false);
  });
  // The input holds a bare number; the formatted figure beside it is what people read.
  const shown = el('span', { class: 'muted small' }, fmtNumber(b.monthly_credits));
  input.addEventListener('input', () => {
    shown.textContent = Number.isFinite(Number(input.value)) ? fmtNumber(Number(input.value)) : '';
  });
  return el('span', { class: 'inline-edit' }, input, shown, save, remove, out);
}

async function loadBudgets(): Promise<void> {
  const box = document.getElementById('budgets');
  if (!box) return;
  const r = await api<{ budgets: Budget[] }>('GET', '/api/v1/budgets');
  if (!r.ok || !r.data) return void box.replaceChildren(empty(`Budgets could not be loaded: ${r.error}`));
  if (r.data.budgets.length === 0)
    return void box.replaceChildren(
      empty('No budgets yet. Set one for the whole account, a key or an environment.'),
    );
  const rows = r.data.budgets.map((b) => {
    const state = STATES[b.state] ?? { tone: 'muted', label: b.state.replace(/_/g, ' ') };
    return [
      scopeText(b),
      isAdmin() ? budgetActions(b) : fmtCredits(b.monthly_credits),
      fmtCredits(b.spent),
      fmtCredits(b.projected),
      b.thresholds.map((t) => `${Math.round(t * 100)}%`).join(', '),
      badge(state.tone, state.label),
    ];
  });
  box.replaceChildren(
    table(
      ['Scope', 'Credits per month', 'Spent this period', 'Projected to period end', 'Alerts at', 'State'],
      rows,
      [2, 3],
    ),
  );
}

const budgetForm = document.getElementById('budget-form') as HTMLFormElement | null;
budgetForm?.addEventListener('submit', async (event) => {
  event.preventDefault();
  const d = new FormData(budgetForm);
  const scope = String(d.get('scope'));
  const thresholds = String(d.get('thresholds') ?? '')
    .split(',')
    .map((s) => Number(s.trim()) / 100)
    .filter((n) => Number.isFinite(n) && n > 0);
  const target = String(d.get('target') ?? '').trim();
  const r = await api('POST', '/api/v1/budgets', {
    scope,
    target: scope === 'total' ? null : target,
    monthly_credits: Number(d.get('monthly_credits')),
    thresholds,
    notify_forecast: d.get('notify_forecast') === 'on',
  });
  const status = document.getElementById('budget-status');
  say(status, r.ok ? 'Budget created.' : `Not created: ${r.error}`, r.ok);
  if (r.ok) {
    budgetForm.reset();
    void loadBudgets();
  }
});

/** "floor_credits" → "Floor credits". */
const paramLabel = (name: string) => name.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());

/** One number field per parameter the rule knows (its defaults name them all). */
function paramFields(rule: Rule, idPrefix: string): { box: HTMLElement; read(): Record<string, number> } {
  const inputs = Object.keys(rule.defaults).map((name) => {
    const current = rule.params[name] ?? rule.defaults[name];
    const input = el('input', {
      type: 'number',
      step: 'any',
      min: '0',
      name: `params.${name}`,
      id: `${idPrefix}-${name}`,
      value: String(current ?? ''),
      class: 'narrow',
      'aria-describedby': `${idPrefix}-${name}-error`,
    }) as HTMLInputElement;
    const field = el(
      'label',
      { class: 'param' },
      paramLabel(name),
      input,
      el('span', { class: 'muted small' }, `default ${String(rule.defaults[name])}`),
      el('span', { class: 'error-text small', id: `${idPrefix}-${name}-error`, 'aria-live': 'polite' }),
    );
    return { name, input, field };
  });
  return {
    box: el('div', { class: 'params' }, ...inputs.map((i) => i.field)),
    read: () =>
      Object.fromEntries(
        inputs.filter((i) => i.input.value.trim() !== '').map((i) => [i.name, Number(i.input.value)]),
      ),
  };
}

/** Puts each validation issue beside its field (`params.x`), and clears the others. */
function showIssues(box: HTMLElement, issues: Issue[]): void {
  for (const input of box.querySelectorAll<HTMLInputElement>('input[name^="params."]')) {
    const issue = issues.find((i) => i.path === input.name);
    input.setAttribute('aria-invalid', issue ? 'true' : 'false');
    const note = document.getElementById(`${input.id}-error`);
    if (note) note.textContent = issue?.message ?? '';
  }
}

function ruleRow(rule: Rule): (Node | string)[] {
  const label = paramLabel(rule.kind);
  const fields = Object.entries(rule.params)
    .map(([k, v]) => `${paramLabel(k)} ${fmtNumber(Number(v))}`)
    .join(' · ');
  if (!isAdmin()) return [label, rule.enabled ? 'on' : 'off', fields || 'defaults'];
  const enabled = el('input', { type: 'checkbox', 'aria-label': `Enable ${label}` }) as HTMLInputElement;
  enabled.checked = rule.enabled;
  const params = paramFields(rule, `rule-${rule.kind}`);
  const save = el('button', { type: 'button', class: 'small' }, 'Save');
  const out = el('output', { 'aria-live': 'polite' });
  save.addEventListener('click', async () => {
    const r = await api('PUT', `/api/v1/rules/${rule.kind}`, {
      enabled: enabled.checked,
      params: params.read(),
    });
    showIssues(params.box, r.issues);
    say(out, r.ok ? 'Saved.' : (r.error ?? 'Failed'), r.ok);
  });
  return [label, enabled, params.box, el('span', {}, save, out)];
}

const btForm = document.getElementById('backtest-form') as HTMLFormElement | null;
let rules: Rule[] = [];
let backtestParams: ReturnType<typeof paramFields> | null = null;

/** The backtest's parameter fields follow the chosen rule, starting from its saved values. */
function renderBacktestParams(): void {
  const box = document.getElementById('backtest-params');
  const kind = (btForm?.elements.namedItem('kind') as HTMLSelectElement | null)?.value;
  const rule = rules.find((r) => r.kind === kind);
  if (!box) return;
  backtestParams = rule ? paramFields(rule, 'bt') : null;
  box.replaceChildren(
    backtestParams?.box ?? el('p', { class: 'muted small' }, 'This rule has no parameters.'),
  );
}

async function loadRules(): Promise<void> {
  const box = document.getElementById('rules');
  if (!box) return;
  const r = await api<{ rules: Rule[] }>('GET', '/api/v1/rules');
  if (!r.ok || !r.data) return void box.replaceChildren(empty(`Rules could not be loaded: ${r.error}`));
  rules = r.data.rules;
  const headers = isAdmin() ? ['Rule', 'Enabled', 'Parameters', ''] : ['Rule', 'Enabled', 'Parameters'];
  box.replaceChildren(table(headers, r.data.rules.map(ruleRow)));
  renderBacktestParams();
}

btForm?.addEventListener('submit', async (event) => {
  event.preventDefault();
  const out = document.getElementById('backtest-result');
  if (!out) return;
  const d = new FormData(btForm);
  const params = backtestParams?.read();
  out.replaceChildren(el('p', { class: 'muted' }, 'Running…'));
  const key = String(d.get('key') ?? '');
  const r = await api<Backtest>('POST', '/api/v1/backtest', {
    kind: String(d.get('kind')),
    days: Number(d.get('days')),
    ...(params && { params }),
    ...(key && { key }),
  });
  const paramBox = document.getElementById('backtest-params');
  if (paramBox) showIssues(paramBox, r.issues);
  if (!r.ok || !r.data) return void out.replaceChildren(empty(`Backtest refused: ${r.error}`));
  const rows = r.data.incidents.map((i) => [
    i.key ?? 'account',
    i.severity,
    timeEl(i.started_at),
    timeEl(i.ended_at, 'ongoing'),
    fmtNumber(i.observed),
    fmtNumber(i.expected),
  ]);
  out.replaceChildren(
    el(
      'p',
      { class: 'lead' },
      `Would have fired ${fmtNumber(r.data.fired)} times in ${fmtNumber(Number(d.get('days')))} days.`,
    ),
    ...(rows.length
      ? [table(['Key', 'Severity', 'Started', 'Ended', 'Observed', 'Expected'], rows, [4, 5])]
      : []),
  );
});

(btForm?.elements.namedItem('kind') as HTMLSelectElement | null)?.addEventListener(
  'change',
  renderBacktestParams,
);

void loadKeyNames().then(loadBudgets);
void loadRules();
