-- No query reads the minute or hour buckets by bucket alone any more (ranges over every key read
-- the totals or seek key by key), and retention deletes key by key: the indexes only cost disk and
-- a B-tree write per new bucket. No query reads projects by key; retention reads them by creation.
DROP INDEX `projects_key_idx`;--> statement-breakpoint
CREATE INDEX `projects_created_idx` ON `projects` (`created_at`);--> statement-breakpoint
DROP INDEX `usage_hour_bucket_idx`;--> statement-breakpoint
DROP INDEX `usage_minute_bucket_idx`;