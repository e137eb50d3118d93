/** Budgets & rules page: budgets (list, create, edit, delete), rules (enable, tune), backtest preview. */
import { api, badge, el, empty, fmtNumber, initPage, isAdmin, say, table, timeEl } from '../lib/common.ts';

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

const STATE_TONE: Record<string, string> = {
  ok: 'ok',
  warning: 'warn',
  exceeded: 'bad',
  forecast_exceeded: 'warn',
};

function budgetActions(b: Budget): HTMLElement {
  const input = el('input', {
    type: 'number',
    min: '1',
    step: 'any',
    value: String(b.monthly_credits),
    'aria-label': `Monthly credits for ${b.target ?? 'the account'}`,
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
  return el('span', { class: 'inline-edit' }, input, save, remove, out);
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
  const rows = r.data.budgets.map((b) => [
    b.scope === 'total' ? 'whole account' : `${b.scope}: ${b.target ?? ''}`,
    isAdmin() ? budgetActions(b) : fmtNumber(b.monthly_credits),
    fmtNumber(b.spent),
    fmtNumber(b.projected),
    b.thresholds.map((t) => `${Math.round(t * 100)}%`).join(', '),
    badge(STATE_TONE[b.state] ?? 'muted', b.state),
  ]);
  box.replaceChildren(
    table(
      ['Scope', 'Credits per month', 'Spent this period', 'Projected', 'Alerts at', 'State'],
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

function ruleRow(rule: Rule): (Node | string)[] {
  const label = rule.kind.replace(/_/g, ' ');
  if (!isAdmin()) return [label, rule.enabled ? 'on' : 'off', el('code', {}, JSON.stringify(rule.params))];
  const enabled = el('input', { type: 'checkbox', 'aria-label': `Enable ${label}` }) as HTMLInputElement;
  enabled.checked = rule.enabled;
  const params = el('textarea', {
    rows: '2',
    'aria-label': `Parameters of ${label} (JSON)`,
    class: 'code',
  }) as HTMLTextAreaElement;
  params.value = JSON.stringify(rule.params);
  const save = el('button', { type: 'button', class: 'small' }, 'Save');
  const out = el('output', { 'aria-live': 'polite' });
  save.addEventListener('click', async () => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(params.value || '{}');
    } catch {
      return say(out, 'Parameters must be JSON.', false);
    }
    const r = await api('PUT', `/api/v1/rules/${rule.kind}`, { enabled: enabled.checked, params: parsed });
    say(out, r.ok ? 'Saved.' : (r.error ?? 'Failed'), r.ok);
  });
  return [
    label,
    enabled,
    el('div', {}, params, el('div', { class: 'muted small' }, `defaults: ${JSON.stringify(rule.defaults)}`)),
    el('span', {}, save, out),
  ];
}

async function loadRules(): Promise<void> {
  const box = document.getElementById('rules');
  if (!box) return;
  const r = await api<{ rules: Rule[] }>('GET', '/api/v1/rules');
  if (!r.ok || !r.data) return void box.replaceChildren(empty(`Rules could not be loaded: ${r.error}`));
  const headers = isAdmin() ? ['Rule', 'Enabled', 'Parameters', ''] : ['Rule', 'Enabled', 'Parameters'];
  box.replaceChildren(table(headers, r.data.rules.map(ruleRow)));
}

const btForm = document.getElementById('backtest-form') as HTMLFormElement | null;
btForm?.addEventListener('submit', async (event) => {
  event.preventDefault();
  const out = document.getElementById('backtest-result');
  if (!out) return;
  const d = new FormData(btForm);
  let params: unknown;
  const raw = String(d.get('params') ?? '').trim();
  try {
    params = raw ? JSON.parse(raw) : undefined;
  } catch {
    return void out.replaceChildren(empty('Parameters must be JSON.'));
  }
  out.replaceChildren(el('p', { class: 'muted' }, 'Running…'));
  const key = String(d.get('key') ?? '');
  const r = await api<Backtest>('POST', '/api/v1/backtest', {
    kind: String(d.get('kind')),
    days: Number(d.get('days')),
    ...(params !== undefined && { params }),
    ...(key && { key }),
  });
  if (!r.ok || !r.data) return void out.replaceChildren(empty(`Backtest failed: ${r.error}`));
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

void loadBudgets();
void loadRules();
