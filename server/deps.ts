/** What the app, the jobs and the CLI are given instead of reaching for globals. */
import type { Clock } from './clock.ts';
import type { Config } from './config.ts';
import type { Db, Sqlite } from './db/client.ts';
import type { Logger } from './log.ts';

export type Deps = { db: Db; sqlite: Sqlite; clock: Clock; config: Config; log: Logger };
