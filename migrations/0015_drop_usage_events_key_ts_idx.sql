-- One key's raw events are read as a time range through usage_events_ts_idx, filtered by key
-- (rotation clients, incident contributors, detection's one-key chunks), and its last use from
-- key_clients: the (key_id, ts) index only cost disk and, per ingest batch, a page per key in it.
-- Dropping it only moves its pages to the free list (no table rewrite) on a database of any size.
DROP INDEX `usage_events_key_ts_idx`;--> statement-breakpoint
-- Its pages go back to the disk after the migrations (server/db/migration-tasks.ts, progress on
-- stderr). OR IGNORE: a database that still has 0013's task queued needs the one pass only.
INSERT OR IGNORE INTO `migration_tasks` (`name`, `source`) VALUES ('reclaim', 'usage_events');
