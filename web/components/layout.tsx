/** The page shell: head with hashed assets and the CSRF token, header, navigation, time zone toggle. */
import type { Child } from 'hono/jsx';
import type { SessionPrincipal } from '../../server/auth/sessions.ts';
import type { Assets, PageScript } from '../assets.ts';

export type PageContext = {
  assets: Assets;
  session: SessionPrincipal;
  creditPrice: number | undefined;
  timeZone: string;
};

const NAV = [
  ['/', 'Overview'],
  ['/keys', 'Keys'],
  ['/incidents', 'Incidents'],
  ['/budgets', 'Budgets & rules'],
  ['/capacity', 'Capacity'],
  ['/invoice', 'Invoice'],
  ['/settings', 'Settings'],
] as const;

export function Head(props: { title: string; assets: Assets; script: PageScript; csrf?: string }) {
  const script = props.assets.script(props.script);
  return (
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="color-scheme" content="light dark" />
      <link rel="icon" href="/favicon.ico" type="image/svg+xml" />
      {props.csrf && <meta name="csrf-token" content={props.csrf} />}
      <title>{`${props.title} · Keywatch`}</title>
      <link rel="stylesheet" href={props.assets.css} />
      {script.preload.map((href) => (
        <link rel="modulepreload" href={href} />
      ))}
      <script type="module" src={script.src} />
    </head>
  );
}

export function Layout(props: {
  ctx: PageContext;
  title: string;
  active: string;
  script: PageScript;
  children: Child;
}) {
  const { ctx } = props;
  const admin = ctx.session.role === 'admin';
  return (
    <html lang="en">
      <Head title={props.title} assets={ctx.assets} script={props.script} csrf={ctx.session.csrfToken} />
      <body
        data-role={ctx.session.role}
        data-credit-price={ctx.creditPrice === undefined ? '' : String(ctx.creditPrice)}
        data-time-zone={ctx.timeZone}
      >
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="top">
          <a class="brand" href="/">
            Keywatch
          </a>
          <nav aria-label="Main">
            <ul>
              {NAV.map(([href, label]) => (
                <li>
                  <a href={href} aria-current={props.active === href ? 'page' : undefined}>
                    {label}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
          <div class="who">
            <button type="button" class="tz-toggle" id="tz-toggle" aria-live="polite">
              Times: UTC
            </button>
            <span class="user" title={ctx.session.email}>
              {ctx.session.email} <span class={`role role-${ctx.session.role}`}>{ctx.session.role}</span>
            </span>
            <form method="post" action="/logout" class="logout">
              <input type="hidden" name="_csrf" value={ctx.session.csrfToken} />
              <button type="submit" class="link">
                Sign out
              </button>
            </form>
          </div>
        </header>
        <main id="main" tabindex={-1}>
          <h1>{props.title}</h1>
          {!admin && (
            <p class="notice" role="note">
              You are signed in as a viewer: you can look at everything but change nothing.
            </p>
          )}
          {props.children}
        </main>
      </body>
    </html>
  );
}

/** A <time> element: UTC text from the server, rewritten by the client when the zone toggle says so. */
export function Time(props: { at: string | null | undefined; empty?: string }) {
  if (!props.at) return <span class="muted">{props.empty ?? '—'}</span>;
  return (
    <time datetime={props.at} data-kw-time="">
      {`${props.at.slice(0, 16).replace('T', ' ')} UTC`}
    </time>
  );
}

export function Empty(props: { children: Child }) {
  return <p class="empty">{props.children}</p>;
}
