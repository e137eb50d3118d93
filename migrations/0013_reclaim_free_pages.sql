-- Queues the return of the pages migration 0012's dropped indexes left free (about 420 MB on a
-- year of 1,000 keys), run after the migrations by server/db/migration-tasks.ts with progress on
-- stderr: incremental vacuum (the file's mode since 0011) moves pages within the file and needs no
-- second copy of it, unlike VACUUM.
INSERT INTO `migration_tasks` (`name`, `source`) VALUES ('reclaim', 'usage_minute');
