/** Settings: users, API tokens (shown once), email status and test send, account plan, sources, audit log. */

import type { AccountView } from '../../server/account/view.ts';
import type { AuditView } from '../../server/audit/list.ts';
import type { TokenView } from '../../server/auth/tokens.ts';
import type { UserView } from '../../server/auth/users.ts';
import type { SourceFreshness } from '../../server/ingest/health.ts';
import { AccountPlanSection } from '../components/account-plan.tsx';
import { Empty, Layout, type PageContext, Time } from '../components/layout.tsx';
import { Badge, CsvLink, FreshnessTable } from '../components/parts.tsx';

export type SettingsData = {
  users: UserView[];
  tokens: TokenView[];
  audit: AuditView[];
  freshness: SourceFreshness[];
  account: AccountView;
  smtp: { configured: boolean; host: string | null; from: string; securityTo: string[]; billingTo: string[] };
};

function UsersSection({ users, admin }: { users: UserView[]; admin: boolean }) {
  return (
    <section aria-labelledby="users-h">
      <h2 id="users-h">Users</h2>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
              <th scope="col">Created</th>
              <th scope="col">Last sign-in</th>
            </tr>
          </thead>
          <tbody id="users-body">
            {users.map((u) => (
              <tr>
                <td>{u.email}</td>
                <td>
                  <span class={`role role-${u.role}`}>{u.role}</span>
                </td>
                <td>
                  <Time at={u.created_at} />
                </td>
                <td>
                  <Time at={u.last_login_at} empty="never" />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {admin && (
        <form id="user-form" class="form-grid panel">
          <label>
            Email <input name="email" type="email" required maxlength={254} />
          </label>
          <label>
            Role
            <select name="role">
              <option value="viewer">viewer (read only)</option>
              <option value="admin">admin</option>
            </select>
          </label>
          <div class="actions span-2">
            <button type="submit" class="primary">
              Add user
            </button>
            <output id="user-status" aria-live="polite" />
          </div>
        </form>
      )}
    </section>
  );
}

function TokensSection({ tokens, admin }: { tokens: TokenView[]; admin: boolean }) {
  return (
    <section aria-labelledby="tokens-h">
      <h2 id="tokens-h">API tokens</h2>
      {tokens.length === 0 ? (
        <Empty>No API tokens yet. Create one for push ingest (scope ingest) or scripts (read).</Empty>
      ) : (
        <div class="table-wrap">
          <table id="tokens-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Last 4</th>
                <th scope="col">Scopes</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {tokens.map((t) => (
                <tr data-token-id={String(t.id)}>
                  <td>{t.name}</td>
                  <td>
                    <code>…{t.last4}</code>
                  </td>
                  <td>{t.scopes.join(', ')}</td>
                  <td>
                    <Time at={t.created_at} /> <span class="muted small">by {t.created_by}</span>
                  </td>
                  <td>
                    <Time at={t.last_used_at} empty="never" />
                  </td>
                  <td>
                    {t.revoked_at ? (
                      <Badge tone="muted">revoked</Badge>
                    ) : admin ? (
                      <button
                        type="button"
                        class="danger small"
                        data-revoke-token={String(t.id)}
                        aria-label={`Revoke token ${t.name}`}
                      >
                        Revoke
                      </button>
                    ) : (
                      <Badge tone="ok">active</Badge>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {admin && (
        <form id="token-form" class="form-grid panel">
          <label>
            Name <input name="name" required maxlength={100} placeholder="ci-push" />
          </label>
          <fieldset>
            <legend>Scopes</legend>
            <label class="inline">
              <input type="checkbox" name="scopes" value="ingest" checked /> ingest
            </label>
            <label class="inline">
              <input type="checkbox" name="scopes" value="read" /> read
            </label>
            <label class="inline">
              <input type="checkbox" name="scopes" value="admin" /> admin
            </label>
          </fieldset>
          <div class="actions span-2">
            <button type="submit" class="primary">
              Create token
            </button>
          </div>
          <div id="token-created" class="secret span-2" hidden role="status" />
        </form>
      )}
    </section>
  );
}

export function SettingsPage({ ctx, data }: { ctx: PageContext; data: SettingsData }) {
  const admin = ctx.session.role === 'admin';
  const { smtp } = data;
  return (
    <Layout ctx={ctx} title="Settings" active="/settings" script="settings">
      <nav aria-label="Settings sections" class="subnav">
        <a href="#users-h">Users</a> <a href="#tokens-h">API tokens</a> <a href="#email-h">Email</a>{' '}
        <a href="#routing-h">Routing</a> <a href="#account-h">Account</a> <a href="#sources-h">Sources</a>{' '}
        <a href="#audit-h">Audit log</a> <a href="/api-reference">API reference</a>
      </nav>
      {admin ? (
        <>
          <UsersSection users={data.users} admin={admin} />
          <TokensSection tokens={data.tokens} admin={admin} />
        </>
      ) : (
        <Empty>Users and API tokens are visible to admins only.</Empty>
      )}
      <section aria-labelledby="email-h">
        <h2 id="email-h">Email alerts</h2>
        <dl class="facts">
          <div>
            <dt>SMTP</dt>
            <dd>
              {smtp.configured ? (
                <Badge tone="ok">configured: {smtp.host}</Badge>
              ) : (
                <Badge tone="warn">not configured (set SMTP_URL)</Badge>
              )}
            </dd>
          </div>
          <div>
            <dt>From</dt>
            <dd>{smtp.from}</dd>
          </div>
          <div>
            <dt>Security alerts to</dt>
            <dd>{smtp.securityTo.join(', ') || '—'}</dd>
          </div>
          <div>
            <dt>Billing alerts to</dt>
            <dd>{smtp.billingTo.join(', ') || '—'}</dd>
          </div>
        </dl>
        {admin && (
          <form id="test-email-form" class="form-grid panel">
            <label>
              Send a test email to <input name="to" type="email" placeholder="default recipients" />
            </label>
            <div class="actions">
              <button type="submit">Send test email</button>
              <output id="test-email-status" aria-live="polite" />
            </div>
          </form>
        )}
        <h3>Recent deliveries</h3>
        <div id="deliveries" aria-live="polite">
          <p class="muted">Loading deliveries…</p>
        </div>
      </section>
      <section aria-labelledby="routing-h">
        <h2 id="routing-h">Alert routing</h2>
        <p class="muted small">
          Who gets which incident, on every channel: security kinds to on-call, budget kinds to billing, from
          a minimum severity. An environment can override them; a blank field there inherits, “none” mutes.
        </p>
        <div id="routing" aria-live="polite">
          <p class="muted">Loading routing…</p>
        </div>
      </section>
      <AccountPlanSection view={data.account} timeZone={ctx.timeZone} />
      <section aria-labelledby="sources-h">
        <h2 id="sources-h">Sources</h2>
        <FreshnessTable rows={data.freshness} />
      </section>
      {admin && (
        <section aria-labelledby="audit-h">
          <h2 id="audit-h">Audit log</h2>
          <div class="toolbar">
            <p class="muted">The latest {data.audit.length} changes.</p>
            <CsvLink href="/export/audit.csv" label="Download CSV" />
          </div>
          {data.audit.length === 0 ? (
            <Empty>Nothing changed yet.</Empty>
          ) : (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col">Who</th>
                    <th scope="col">What</th>
                    <th scope="col">Target</th>
                  </tr>
                </thead>
                <tbody>
                  {data.audit.map((a) => (
                    <tr>
                      <td>
                        <Time at={a.ts} />
                      </td>
                      <td>{a.actor}</td>
                      <td>
                        <code>{a.action}</code>
                      </td>
                      <td class="wrap">{a.target ?? '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
      )}
    </Layout>
  );
}
