-- Queues the file's compaction, run after the migrations by server/db/migration-tasks.ts: a VACUUM
-- (which cannot run inside a migration's transaction) drops the pages earlier copies left free and
-- switches the file to incremental auto-vacuum, so retention can return freed pages to the disk.
-- The free-disk check comes first; progress is said on stderr.
INSERT INTO `migration_tasks` (`name`, `source`) VALUES ('compact', 'usage_events');
