/** Keys page: filter the table as you type. */
import { initPage } from '../lib/common.ts';

initPage();

const input = document.getElementById('key-filter') as HTMLInputElement | null;
input?.addEventListener('input', () => {
  const needle = input.value.trim().toLowerCase();
  for (const row of document.querySelectorAll<HTMLTableRowElement>('#keys-table tbody tr')) {
    row.hidden = needle !== '' && !(row.dataset.search ?? '').includes(needle);
  }
});
