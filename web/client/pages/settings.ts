/** Settings page: add users, create tokens (shown once) and revoke them, test email, deliveries, sources. */
import { api, badge, el, empty, type Issue, initPage, isAdmin, say, table, timeEl } from '../lib/common.ts';
import { renderSources } from '../lib/sources.ts';

initPage();

/** Shows a secret once, with a copy button; it is never stored in the page again. */
function showSecret(box: HTMLElement, intro: string, secret: string): void {
  const code = el('code', { class: 'secret-value', id: 'new-secret' }, secret);
  const copy = el('button', { type: 'button', class: 'small' }, 'Copy');
  copy.addEventListener('click', () => {
    void navigator.clipboard?.writeText(secret).then(() => say(copy, 'Copied'));
  });
  box.replaceChildren(
    el('p', {}, intro),
    el('p', {}, code, ' ', copy),
    el('p', { class: 'muted small' }, 'It will not be shown again: store it now.'),
  );
  box.hidden = false;
}

const userForm = document.getElementById('user-form') as HTMLFormElement | null;
userForm?.addEventListener('submit', async (event) => {
  event.preventDefault();
  const d = new FormData(userForm);
  const r = await api<{ user: { email: string; role: string }; password?: string }>('POST', '/api/v1/users', {
    email: String(d.get('email')),
    role: String(d.get('role')),
  });
  const status = document.getElementById('user-status');
  if (!r.ok || !r.data) return say(status, `Not added: ${r.error}`, false);
  say(
    status,
    `Added ${r.data.user.email} (${r.data.user.role}). Password, shown once: ${r.data.password ?? '(chosen by you)'}`,
  );
  userForm.reset();
});

const tokenForm = document.getElementById('token-form') as HTMLFormElement | null;
tokenForm?.addEventListener('submit', async (event) => {
  event.preventDefault();
  const d = new FormData(tokenForm);
  const r = await api<{ token: string; api_token: { name: string; scopes: string[] } }>(
    'POST',
    '/api/v1/tokens',
    {
      name: String(d.get('name')),
      scopes: d.getAll('scopes').map(String),
    },
  );
  const box = document.getElementById('token-created');
  if (!box) return;
  if (!r.ok || !r.data) {
    box.replaceChildren(el('p', { class: 'error-text' }, `Not created: ${r.error}`));
    box.hidden = false;
    return;
  }
  showSecret(
    box,
    `Token “${r.data.api_token.name}” (${r.data.api_token.scopes.join(', ')}) created:`,
    r.data.token,
  );
  tokenForm.reset();
});

for (const button of document.querySelectorAll<HTMLButtonElement>('button[data-revoke-token]')) {
  button.addEventListener('click', async () => {
    if (!confirm('Revoke this token? Anything using it stops working at once.')) return;
    const r = await api('POST', `/api/v1/tokens/${button.dataset.revokeToken}/revoke`, {});
    if (r.ok) button.replaceWith(badge('muted', 'revoked'));
    else say(button, r.error ?? 'Failed', false);
  });
}

type Delivery = {
  id: string | number;
  created_at: string;
  /** 'email', 'webhook', 'slack' or 'pagerduty'; only email rows have addresses. */
  channel: string;
  to: string[];
  subject: string;
  status: string;
  attempts: number;
  last_error: string | null;
  sent_at: string | null;
};
const DELIVERY_TONE: Record<string, string> = { sent: 'ok', pending: 'warn', failed: 'bad' };

async function loadDeliveries(): Promise<void> {
  const box = document.getElementById('deliveries');
  if (!box) return;
  const r = await api<{ deliveries: Delivery[]; failing: boolean }>('GET', '/api/v1/alerts/deliveries');
  if (!r.ok || !r.data) return void box.replaceChildren(empty(`Deliveries could not be loaded: ${r.error}`));
  if (r.data.deliveries.length === 0) return void box.replaceChildren(empty('No messages sent yet.'));
  const rows = r.data.deliveries.map((d) => [
    timeEl(d.created_at),
    d.channel === 'email' ? d.to.join(', ') : d.channel,
    d.subject,
    badge(DELIVERY_TONE[d.status] ?? 'muted', d.status),
    String(d.attempts),
    d.last_error ?? '',
  ]);
  box.replaceChildren(
    ...(r.data.failing
      ? [
          el(
            'p',
            { class: 'error', role: 'alert' },
            'Delivery is failing: check SMTP_URL or the channel settings, and the errors below.',
          ),
        ]
      : []),
    table(['Queued', 'To / channel', 'Subject', 'Status', 'Attempts', 'Last error'], rows, [4]),
  );
}

const testForm = document.getElementById('test-email-form') as HTMLFormElement | null;
testForm?.addEventListener('submit', async (event) => {
  event.preventDefault();
  const to = String(new FormData(testForm).get('to') ?? '').trim();
  const r = await api('POST', '/api/v1/alerts/test', to ? { to: [to] } : {});
  const status = document.getElementById('test-email-status');
  say(status, r.ok ? 'Test email queued; see the deliveries below.' : `Not sent: ${r.error}`, r.ok);
  if (r.ok) void loadDeliveries();
});

void loadDeliveries();
void renderSources(document.getElementById('sources'));

// ---- alert routing (GET/PUT /api/v1/alerts/routing) ----
const SEVERITIES = ['info', 'warning', 'critical'] as const;
type Override = { environment: string; security_to?: string[]; billing_to?: string[]; min_severity?: string };
type Routing = {
  security_to: string[];
  billing_to: string[];
  min_severity: string;
  environments: Override[];
};

const list = (v: string[] | undefined) => (v === undefined ? '' : v.length === 0 ? 'none' : v.join(', '));
/** "a@x, b@y" → list; "none" → [] (mutes); blank → undefined (inherits, overrides only). */
function parseList(text: string, blank: 'inherit' | 'empty'): string[] | undefined {
  const t = text.trim();
  if (t === '') return blank === 'inherit' ? undefined : [];
  if (t.toLowerCase() === 'none') return [];
  return t
    .split(/[,\s]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

function field(label: string, name: string, value: string, placeholder = ''): HTMLElement {
  const input = el('input', { name, value, placeholder, 'aria-describedby': `${name}-error` });
  return el('label', {}, label, input, el('span', { class: 'error-text small', id: `${name}-error` }));
}

function severitySelect(name: string, value: string | undefined, inherit: boolean): HTMLElement {
  const select = el(
    'select',
    { name },
    ...(inherit ? [el('option', { value: '' }, 'inherit')] : []),
    ...SEVERITIES.map((s) => el('option', { value: s }, s)),
  ) as HTMLSelectElement;
  select.value = value ?? '';
  return el('label', {}, 'Minimum severity', select);
}

function overrideRow(o: Override, i: number): HTMLElement {
  const remove = el('button', { type: 'button', class: 'small danger' }, 'Remove');
  const row = el(
    'fieldset',
    { class: 'override form-grid' },
    el('legend', {}, `Environment override ${i + 1}`),
    field('Environment', `environments.${i}.environment`, o.environment, 'production'),
    field('Security alerts to', `environments.${i}.security_to`, list(o.security_to), 'inherit'),
    field('Billing alerts to', `environments.${i}.billing_to`, list(o.billing_to), 'inherit'),
    severitySelect(`environments.${i}.min_severity`, o.min_severity, true),
    remove,
  );
  remove.addEventListener('click', () => row.remove());
  return row;
}

function readRouting(form: HTMLFormElement): unknown {
  const value = (name: string) => (form.elements.namedItem(name) as HTMLInputElement | null)?.value ?? '';
  const environments = [...form.querySelectorAll<HTMLFieldSetElement>('fieldset.override')].map((f) => {
    const prefix = (f.querySelector('input')?.name ?? '').replace(/\.environment$/, '');
    const min = value(`${prefix}.min_severity`);
    const sec = parseList(value(`${prefix}.security_to`), 'inherit');
    const bill = parseList(value(`${prefix}.billing_to`), 'inherit');
    return {
      environment: value(`${prefix}.environment`).trim(),
      ...(sec !== undefined && { security_to: sec }),
      ...(bill !== undefined && { billing_to: bill }),
      ...(min && { min_severity: min }),
    };
  });
  return {
    security_to: parseList(value('security_to'), 'empty'),
    billing_to: parseList(value('billing_to'), 'empty'),
    min_severity: value('min_severity'),
    environments,
  };
}

/** Issues name fields like `security_to.1` or `environments.0.environment`: mark the field they belong to. */
function showRoutingIssues(form: HTMLFormElement, issues: Issue[]): void {
  for (const note of form.querySelectorAll('.error-text')) note.textContent = '';
  for (const input of form.querySelectorAll('input')) input.removeAttribute('aria-invalid');
  for (const issue of issues) {
    const name = issue.path.replace(/\.\d+$/, '');
    const input = form.elements.namedItem(name) as HTMLInputElement | null;
    const target = input ? name : issue.path;
    input?.setAttribute('aria-invalid', 'true');
    const note = document.getElementById(`${target}-error`);
    if (note) note.textContent = issue.message;
  }
}

function renderRouting(box: HTMLElement, routing: Routing): void {
  if (!isAdmin()) {
    const rows = [
      [
        'all environments',
        list(routing.security_to) || 'none',
        list(routing.billing_to) || 'none',
        routing.min_severity,
      ],
      ...routing.environments.map((o) => [
        o.environment,
        list(o.security_to) || 'inherited',
        list(o.billing_to) || 'inherited',
        o.min_severity ?? 'inherited',
      ]),
    ];
    box.replaceChildren(
      table(['Scope', 'Security alerts to', 'Billing alerts to', 'Minimum severity'], rows),
    );
    return;
  }
  const overrides = el('div', { id: 'routing-overrides' }, ...routing.environments.map(overrideRow));
  const add = el('button', { type: 'button', class: 'small' }, 'Add environment override');
  add.addEventListener('click', () =>
    overrides.append(overrideRow({ environment: '' }, overrides.querySelectorAll('fieldset').length)),
  );
  const out = el('output', { id: 'routing-status', 'aria-live': 'polite' });
  const form = el(
    'form',
    { id: 'routing-form', class: 'panel stack' },
    el(
      'div',
      { class: 'form-grid' },
      // Top level: blank is simply nobody by email (other channels still get them), so no "none" here.
      field('Security alerts to', 'security_to', routing.security_to.join(', '), 'oncall@example.com'),
      field('Billing alerts to', 'billing_to', routing.billing_to.join(', '), 'billing@example.com'),
      severitySelect('min_severity', routing.min_severity, false),
    ),
    overrides,
    el(
      'div',
      { class: 'actions' },
      add,
      el('button', { type: 'submit', class: 'primary' }, 'Save routing'),
      out,
    ),
  ) as HTMLFormElement;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const r = await api<{ routing: Routing }>('PUT', '/api/v1/alerts/routing', readRouting(form));
    showRoutingIssues(form, r.issues);
    say(out, r.ok ? 'Routing saved.' : `Not saved: ${r.error}`, r.ok);
  });
  box.replaceChildren(form);
}

async function loadRouting(): Promise<void> {
  const box = document.getElementById('routing');
  if (!box) return;
  const r = await api<{ routing: Routing }>('GET', '/api/v1/alerts/routing');
  if (!r.ok || !r.data) return void box.replaceChildren(empty(`Routing could not be loaded: ${r.error}`));
  renderRouting(box, r.data.routing);
}

void loadRouting();
