/**
 * A stand-in for a second Keywatch process in the leadership test: takes part in the job election
 * on the database given in argv and prints `leader` / `follower` on each change, until killed.
 */
import { startLeadership } from '../../server/jobs/leader.ts';

const [url, pollMs] = process.argv.slice(2);
const leadership = await startLeadership({
  url: url!,
  pollMs: Number(pollMs),
  onChange: (leader) => process.stdout.write(`${leader ? 'leader' : 'follower'}\n`),
});
if (!leadership.isLeader()) process.stdout.write('follower\n');
// Kept alive by the dedicated connection; the test ends it with SIGKILL.
