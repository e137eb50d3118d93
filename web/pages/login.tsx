/** The sign-in page: email and password, with the reason when the last attempt failed. */
import type { Assets } from '../assets.ts';
import { Head } from '../components/layout.tsx';

export function LoginPage(props: { assets: Assets; next: string; email?: string; error?: string }) {
  return (
    <html lang="en">
      <Head title="Sign in" assets={props.assets} script="login" />
      <body class="login-body">
        <main id="main" class="login">
          <h1>Keywatch</h1>
          <p class="muted">Sign in to watch your API keys' credit spend.</p>
          {props.error && (
            <p class="error" role="alert" id="login-error">
              {props.error}
            </p>
          )}
          <form
            method="post"
            action="/login"
            class="stack"
            aria-describedby={props.error ? 'login-error' : undefined}
          >
            <input type="hidden" name="next" value={props.next} />
            <label>
              Email
              <input name="email" type="email" autocomplete="username" required value={props.email ?? ''} />
            </label>
            <label>
              Password
              <input name="password" type="password" autocomplete="current-password" required />
            </label>
            <button type="submit" class="primary">
              Sign in
            </button>
          </form>
          <p class="muted small">
            The first admin's password is printed once by <code>npm start</code>; add people with{' '}
            <code>npx keywatch user add</code>.
          </p>
        </main>
      </body>
    </html>
  );
}
