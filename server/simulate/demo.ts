/** First start: seed realistic demo data into an empty database and create the first admin. */
import { count } from 'drizzle-orm';
import { addUser, countUsers } from '../auth/users.ts';
import { keys } from '../db/schema/index.ts';
import type { Deps } from '../deps.ts';
import { ingestSimulation } from './ingest-simulation.ts';

export const DEMO = { days: 30, keys: 8, seed: 42 } as const;

export async function isEmpty(deps: Pick<Deps, 'db'>): Promise<boolean> {
  return (
    ((await deps.db.select({ n: count() }).from(keys).limit(1))[0]?.n ?? 0) === 0 &&
    (await countUsers(deps)) === 0
  );
}

export async function seedDemo(deps: Deps) {
  const started = Date.now();
  const result = await ingestSimulation(
    { ...deps, secret: deps.config.secret },
    { ...DEMO, end: deps.clock.now(), incidents: true },
    'system:demo',
  );
  // Judge the seeded month now, so the dashboard opens with its incidents. Historic demo
  // incidents are not emailed: no listener.
  // Loaded here: `serve` imports this module for the first admin, and only seeding runs detection.
  const { runDetection } = await import('../detection/run-detection.ts');
  const detection = await runDetection(deps);
  deps.log.info('seeded demo data', {
    keys: result.keys,
    events: result.accepted,
    incidents: detection.incidents_opened,
    ms: Date.now() - started,
  });
  return result;
}

/** Creates the first admin when there is no user yet; returns the generated password once. */
export async function ensureFirstAdmin(deps: Deps): Promise<{ email: string; password: string } | null> {
  if ((await countUsers(deps)) > 0) return null;
  const { user, password } = await addUser(
    deps,
    { email: deps.config.adminEmail, role: 'admin' },
    'system:first-run',
  );
  return { email: user.email, password };
}
