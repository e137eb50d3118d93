/** Sign-in page: focus the first empty field. */
const email = document.querySelector<HTMLInputElement>('input[name="email"]');
const password = document.querySelector<HTMLInputElement>('input[name="password"]');
(email && !email.value ? email : password)?.focus();
