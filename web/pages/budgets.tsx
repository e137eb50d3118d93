/** Budgets and rules: filled by the client from the budgets, rules and backtest endpoints. */
import { Layout, type PageContext } from '../components/layout.tsx';
import { DETECTED_KINDS, INCIDENT_KINDS, kindLabel } from '../queries/incidents.ts';

export function BudgetsPage(props: {
  ctx: PageContext;
  keys: { id: string; name: string }[];
  environments: string[];
  /** Which period budgets count in: the billing period or the calendar month, and why. */
  periodNote: string;
}) {
  const admin = props.ctx.session.role === 'admin';
  return (
    <Layout ctx={props.ctx} title="Budgets & rules" active="/budgets" script="budgets">
      <section aria-labelledby="budgets-h">
        <h2 id="budgets-h">Budgets</h2>
        <p class="muted" id="period-note">
          {props.periodNote}
        </p>
        <div id="budgets" aria-live="polite">
          <p class="muted">Loading budgets…</p>
        </div>
        {admin && (
          <form id="budget-form" class="form-grid panel" aria-labelledby="budget-form-h">
            <h3 id="budget-form-h" class="span-2">
              New budget
            </h3>
            <label>
              Scope
              <select name="scope">
                <option value="total">whole account</option>
                <option value="key">one key</option>
                <option value="environment">one environment</option>
              </select>
            </label>
            <label>
              Target (key or environment)
              <input name="target" list="budget-targets" placeholder="leave empty for the whole account" />
              <datalist id="budget-targets">
                {props.keys.map((k) => (
                  <option value={k.name} />
                ))}
                {props.environments.map((e) => (
                  <option value={e} />
                ))}
              </datalist>
            </label>
            <label>
              Credits per month <input name="monthly_credits" type="number" min="1" step="any" required />
            </label>
            <label>
              Alert at (% of budget, comma-separated) <input name="thresholds" value="50, 80, 100" />
            </label>
            <label class="inline span-2">
              <input type="checkbox" name="notify_forecast" checked /> Also alert when the period-end forecast
              exceeds it
            </label>
            <div class="actions span-2">
              <button type="submit" class="primary">
                Create budget
              </button>
              <output id="budget-status" aria-live="polite" />
            </div>
          </form>
        )}
      </section>

      <section aria-labelledby="rules-h">
        <h2 id="rules-h">Detection rules</h2>
        <div id="rules" aria-live="polite">
          <p class="muted">Loading rules…</p>
        </div>
      </section>

      <section aria-labelledby="bt-h">
        <h2 id="bt-h">Backtest a rule</h2>
        <p class="muted">How often would a rule have fired over recent history? Nothing is stored.</p>
        <form id="backtest-form" class="form-grid panel">
          <label>
            Rule
            <select name="kind">
              {INCIDENT_KINDS.filter((k) => (DETECTED_KINDS as readonly string[]).includes(k)).map((k) => (
                <option value={k}>{kindLabel(k)}</option>
              ))}
            </select>
          </label>
          <label>
            Days of history <input name="days" type="number" min="1" max="90" value="30" />
          </label>
          <label>
            Key
            <select name="key">
              <option value="">all keys</option>
              {props.keys.map((k) => (
                <option value={k.name}>{k.name}</option>
              ))}
            </select>
          </label>
          <fieldset class="span-2">
            <legend>Parameters (start from the rule's saved values)</legend>
            <div id="backtest-params">
              <p class="muted small">Loading parameters…</p>
            </div>
          </fieldset>
          <div class="actions span-2">
            <button type="submit" class="primary">
              Run backtest
            </button>
          </div>
        </form>
        <div id="backtest-result" aria-live="polite" />
      </section>
    </Layout>
  );
}
