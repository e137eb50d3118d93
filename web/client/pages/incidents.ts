/** Incidents list: the filter form applies as soon as a choice changes. */
import { initPage } from '../lib/common.ts';

initPage();

const form = document.querySelector<HTMLFormElement>('form.filters');
for (const select of form?.querySelectorAll('select') ?? []) {
  select.addEventListener('change', () => form?.requestSubmit());
}
