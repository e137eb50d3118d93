/** Job: sample the account balance every few minutes; stays quiet once the endpoint said no. */
import type { AccountInfo } from '../account/snapshot.ts';
import type { Deps } from '../deps.ts';
import { BALANCE_POLL_MS, pollBalance, saveSourceState } from '../ingest/poll/balance.ts';
import { magicHour } from '../ingest/providers/magichour.ts';
import { iso } from '../timestamps.ts';
import type { Job } from './scheduler.ts';

/** What the account answer said about billing periods, for the sources page. */
function planNote(account: AccountInfo | null): string {
  const s = account?.subscription;
  if (!account) return 'The plan could not be read; periods are calendar months.';
  if (!s) return 'No subscription: budgets and the invoice count calendar months.';
  return `Plan ${s.name ?? 'unnamed'} (${s.interval}ly), period ends ${iso(s.currentPeriodEnd)}.`;
}

export function createBalancePollJob(
  deps: Deps,
  options: { fetch?: typeof fetch; everyMs?: number } = {},
): Job & { disabled(): boolean } {
  const { accountKey, baseUrl } = deps.config.magichour;
  let disabled = false;
  return {
    name: 'balance-poll',
    everyMs: options.everyMs ?? BALANCE_POLL_MS,
    disabled: () => disabled,
    async run() {
      if (disabled) return;
      if (!accountKey) {
        disabled = true;
        await saveSourceState(
          deps,
          'balance',
          'disabled',
          'MAGICHOUR_ACCOUNT_KEY is not set, so the balance is not polled.',
        );
        return;
      }
      const outcome = await pollBalance({
        ...deps,
        fetch: options.fetch ?? fetch,
        baseUrl,
        accountKey,
        account: magicHour.account!,
      });
      if (outcome.status === 'ok') {
        await saveSourceState(
          deps,
          'balance',
          'ok',
          `Balance ${outcome.balance} credits. ${planNote(outcome.account)}`,
        );
        if (outcome.unattributed > 0) {
          deps.log.warn('unattributed spend: balance dropped more than attributed usage explains', {
            credits: outcome.unattributed,
          });
        }
        return;
      }
      if (outcome.status === 'disabled') {
        disabled = true;
        deps.log.warn('balance poller disabled', { detail: outcome.detail });
      } else deps.log.warn('balance poll failed', { detail: outcome.detail });
      await saveSourceState(deps, 'balance', outcome.status, outcome.detail);
    },
  };
}
