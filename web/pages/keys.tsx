/** Keys: every key with its recent spend, status and hygiene flags. */
import { formatAge, formatNumber } from '../../server/format.ts';
import { Empty, Layout, type PageContext, Time } from '../components/layout.tsx';
import { Badge, CsvLink, Sparkline } from '../components/parts.tsx';
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

export function KeysPage({ ctx, keys: page, now }: { ctx: PageContext; keys: KeyPage; now: number }) {
  const keys = page.rows;
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
      {keys.length === 0 ? (
        <Empty>
          No keys yet — register one with POST /api/v1/keys, or send traffic through /gw/magichour.
        </Empty>
      ) : (
        <div class="table-wrap">
          <table id="keys-table">
            <caption class="sr-only">API keys with spend over the last 7 days and hygiene flags</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Last 4</th>
                <th scope="col">Environment</th>
                <th scope="col">Owner</th>
                <th scope="col">Age</th>
                <th scope="col">Last used</th>
                <th scope="col">7 days</th>
                <th scope="col">Status</th>
                <th scope="col">Hygiene</th>
              </tr>
            </thead>
            <tbody>
              {keys.map((k) => (
                <tr data-search={`${k.name} ${k.owner ?? ''} ${k.environment ?? ''}`.toLowerCase()}>
                  <th scope="row">
                    <a href={`/keys/${encodeURIComponent(k.id)}`}>{k.name}</a>
                  </th>
                  <td>{k.last4 ? <code>…{k.last4}</code> : <span class="muted">—</span>}</td>
                  <td>{k.environment ?? <span class="muted">—</span>}</td>
                  <td>{k.owner ?? <span class="muted">—</span>}</td>
                  <td class="nowrap">{formatAge(now - Date.parse(k.created_at))}</td>
                  <td class="nowrap">
                    <Time at={k.last_used_at} empty="never" />
                  </td>
                  <td class="spark-cell">
                    <Sparkline values={k.daily} label={`${formatNumber(k.credits7d)} credits over 7 days`} />
                    <span class="small muted">{formatNumber(k.credits7d)}</span>
                  </td>
                  <td>
                    <Badge tone={STATUS_TONE[k.status]}>{k.status}</Badge>
                  </td>
                  <td>
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
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager page={page.page} pages={page.pages} />
    </Layout>
  );
}
