/** Keys: every key with its recent spend, status and hygiene flags. */
import { formatAge, formatNumber } from '../../server/format.ts';
import { Empty, Layout, type PageContext, Time } from '../components/layout.tsx';
import { Badge, CsvLink, Sparkline } from '../components/parts.tsx';
import { lastDays } from '../components/windows.ts';
import type { KeyPage } from '../queries/key-table.ts';

const STATUS_TONE = { active: 'ok', revoked: 'muted', discovered: 'bad' } as const;
const FLAG_TONE = {
  rotate: 'warn',
  unused: 'warn',
  discovered: 'bad',
  revoked_used: 'bad',
  many_sources: 'warn',
} as const;

/** Previous and next links when the keys take more than one page. */
function Pager({ page, pages }: { page: number; pages: number }) {
  if (pages <= 1) return null;
  return (
    <nav class="pager" aria-label="Pages of keys">
      {page > 1 ? <a href={`/keys?page=${page - 1}`}>← Previous</a> : null}
      <span class="muted">
        Page {page} of {pages}
      </span>
      {page < pages ? <a href={`/keys?page=${page + 1}`}>Next →</a> : null}
    </nav>
  );
}

/** Admins register a key here: the secret, when given, is reduced to a fingerprint by the API at once. */
function AddKeyForm() {
  return (
    <details class="panel add-key" id="add-key">
      <summary>Add a key</summary>
      <form id="key-add" class="form-grid" autocomplete="off">
        <label>
          Name <input name="name" required maxlength={100} placeholder="prod-web" />
        </label>
        <label>
          Environment <input name="environment" maxlength={50} placeholder="production" />
        </label>
        <label>
          Owner <input name="owner" maxlength={200} placeholder="team or person" />
        </label>
        <label>
          Secret (optional)
          <input name="secret" type="password" minlength={8} maxlength={500} autocomplete="off" />
          <span class="muted small">Only its fingerprint and last 4 characters are kept.</span>
        </label>
        <div class="actions span-2">
          <button type="submit" class="primary">
            Add key
          </button>
          <output id="key-add-status" aria-live="polite" />
        </div>
      </form>
    </details>
  );
}

export function KeysPage({ ctx, keys: page, now }: { ctx: PageContext; keys: KeyPage; now: number }) {
  const keys = page.rows;
  const admin = ctx.session.role === 'admin';
  const week = lastDays(now, 7);
  return (
    <Layout ctx={ctx} title="Keys" active="/keys" script="keys">
      <div class="toolbar">
        <p class="muted">
          {formatNumber(page.total)} keys, {formatNumber(page.flagged)} with hygiene flags.
        </p>
        <label class="filter">
          Filter <input type="search" id="key-filter" placeholder="name, owner, environment" />
        </label>
        <CsvLink href="/export/keys.csv" label="Download CSV" />
      </div>
      {admin && <AddKeyForm />}
      {keys.length === 0 ? (
        <Empty>
          No keys yet.{' '}
          {admin
            ? 'Add one above, or send traffic through /gw/magichour: unknown keys appear here as discovered.'
            : 'An admin can add one, or send traffic through /gw/magichour.'}
        </Empty>
      ) : (
        <>
          <p class="window-note">“Last 7 days” column: {week.note.replace('Last 7 days: ', '')}</p>
          <div class="table-wrap">
            <table id="keys-table">
              <caption class="sr-only">
                API keys with status, hygiene flags and spend over the last 7 days
              </caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Status</th>
                  <th scope="col">Hygiene</th>
                  <th scope="col" class="wide-only">
                    Environment
                  </th>
                  <th scope="col" class="wide-only">
                    Owner
                  </th>
                  <th scope="col" class="wide-only">
                    Age
                  </th>
                  <th scope="col" class="wide-only">
                    Last used
                  </th>
                  <th scope="col">Last 7 days</th>
                </tr>
              </thead>
              <tbody>
                {keys.map((k) => (
                  <tr data-search={`${k.name} ${k.owner ?? ''} ${k.environment ?? ''}`.toLowerCase()}>
                    <th scope="row">
                      <a href={`/keys/${encodeURIComponent(k.id)}`}>{k.name}</a>
                      {k.last4 && (
                        <div class="muted small">
                          <code>…{k.last4}</code>
                        </div>
                      )}
                    </th>
                    <td>
                      <Badge tone={STATUS_TONE[k.status]}>{k.status}</Badge>
                    </td>
                    <td class="flags-cell">
                      {k.flags.length === 0 ? (
                        <span class="muted">—</span>
                      ) : (
                        <ul class="flags">
                          {k.flags.map((f) => (
                            <li>
                              <Badge tone={FLAG_TONE[f.code]}>{f.label}</Badge>
                            </li>
                          ))}
                        </ul>
                      )}
                    </td>
                    <td class="wide-only">{k.environment ?? <span class="muted">—</span>}</td>
                    <td class="wide-only">{k.owner ?? <span class="muted">—</span>}</td>
                    <td class="nowrap wide-only">{formatAge(now - Date.parse(k.created_at))}</td>
                    <td class="nowrap wide-only">
                      <Time at={k.last_used_at} empty="never" />
                    </td>
                    <td class="spark-cell">
                      <Sparkline
                        values={k.daily}
                        label={`${formatNumber(k.credits7d)} credits over the last 7 days`}
                      />
                      <span class="small muted">{formatNumber(k.credits7d)}</span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
      <Pager page={page.page} pages={page.pages} />
    </Layout>
  );
}
