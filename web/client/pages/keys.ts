/** Keys page: filter the table as you type. */
import { api, initPage, say } from '../lib/common.ts';

initPage();

const input = document.getElementById('key-filter') as HTMLInputElement | null;
input?.addEventListener('input', () => {
  const needle = input.value.trim().toLowerCase();
  for (const row of document.querySelectorAll<HTMLTableRowElement>('#keys-table tbody tr')) {
    row.hidden = needle !== '' && !(row.dataset.search ?? '').includes(needle);
  }
});

// ---- add a key (admins; the form is not rendered for viewers) ----
const form = document.getElementById('key-add') as HTMLFormElement | null;
form?.addEventListener('submit', async (event) => {
  event.preventDefault();
  const data = new FormData(form);
  const text = (name: string) => {
    const v = String(data.get(name) ?? '').trim();
    return v === '' ? undefined : v;
  };
  const r = await api<{ key: { id: string; name: string } }>('POST', '/api/v1/keys', {
    name: text('name'),
    environment: text('environment'),
    owner: text('owner'),
    secret: text('secret'),
  });
  const status = document.getElementById('key-add-status');
  if (!r.ok || !r.data) return say(status, `Not added: ${r.error}`, false);
  form.reset();
  location.assign(`/keys/${encodeURIComponent(r.data.key.id)}`);
});
