/** Settings page: add users, create tokens (shown once) and revoke them, test email, deliveries, sources. */
import { api, badge, el, empty, initPage, say, table, timeEl } from '../lib/common.ts';
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
