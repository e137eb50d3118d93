-- Bucket tables become WITHOUT ROWID tables clustered on (key_id, bucket, operation): the rows
-- are stored once, in key order, instead of a rowid table plus a primary-key index holding the
-- same columns again. The old tables are renamed here and copied into the new ones after this
-- migration by server/db/migration-tasks.ts, in chunks with progress on stderr and a free-disk
-- check first (SQL alone can do neither); each task is one transaction, resumed on the next start.
-- usage_month (calendar months, UTC) is filled from the copied day rows by the usage_day task.
CREATE TABLE `migration_tasks` (
	`name` text PRIMARY KEY NOT NULL,
	`source` text NOT NULL
);
--> statement-breakpoint
DROP INDEX IF EXISTS `usage_minute_bucket_idx`;
--> statement-breakpoint
ALTER TABLE `usage_minute` RENAME TO `usage_minute_rowid`;
--> statement-breakpoint
CREATE TABLE `usage_minute` (
	`key_id` text NOT NULL,
	`bucket` integer NOT NULL,
	`operation` text NOT NULL,
	`credits` real DEFAULT 0 NOT NULL,
	`requests` integer DEFAULT 0 NOT NULL,
	`errors` integer DEFAULT 0 NOT NULL,
	`auth_failures` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`key_id`, `bucket`, `operation`)
) WITHOUT ROWID;
--> statement-breakpoint
CREATE INDEX `usage_minute_bucket_idx` ON `usage_minute` (`bucket`);
--> statement-breakpoint
CREATE TABLE `usage_minute_total` (
	`bucket` integer PRIMARY KEY NOT NULL,
	`credits` real DEFAULT 0 NOT NULL,
	`requests` integer DEFAULT 0 NOT NULL,
	`errors` integer DEFAULT 0 NOT NULL,
	`auth_failures` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
INSERT INTO `migration_tasks` (`name`, `source`) VALUES ('usage_minute', 'usage_minute_rowid');
--> statement-breakpoint
DROP INDEX IF EXISTS `usage_hour_bucket_idx`;
--> statement-breakpoint
ALTER TABLE `usage_hour` RENAME TO `usage_hour_rowid`;
--> statement-breakpoint
CREATE TABLE `usage_hour` (
	`key_id` text NOT NULL,
	`bucket` integer NOT NULL,
	`operation` text NOT NULL,
	`credits` real DEFAULT 0 NOT NULL,
	`requests` integer DEFAULT 0 NOT NULL,
	`errors` integer DEFAULT 0 NOT NULL,
	`auth_failures` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`key_id`, `bucket`, `operation`)
) WITHOUT ROWID;
--> statement-breakpoint
CREATE INDEX `usage_hour_bucket_idx` ON `usage_hour` (`bucket`);
--> statement-breakpoint
CREATE TABLE `usage_hour_total` (
	`bucket` integer PRIMARY KEY NOT NULL,
	`credits` real DEFAULT 0 NOT NULL,
	`requests` integer DEFAULT 0 NOT NULL,
	`errors` integer DEFAULT 0 NOT NULL,
	`auth_failures` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
INSERT INTO `migration_tasks` (`name`, `source`) VALUES ('usage_hour', 'usage_hour_rowid');
--> statement-breakpoint
DROP INDEX IF EXISTS `usage_day_bucket_idx`;
--> statement-breakpoint
ALTER TABLE `usage_day` RENAME TO `usage_day_rowid`;
--> statement-breakpoint
CREATE TABLE `usage_day` (
	`key_id` text NOT NULL,
	`bucket` integer NOT NULL,
	`operation` text NOT NULL,
	`credits` real DEFAULT 0 NOT NULL,
	`requests` integer DEFAULT 0 NOT NULL,
	`errors` integer DEFAULT 0 NOT NULL,
	`auth_failures` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`key_id`, `bucket`, `operation`)
) WITHOUT ROWID;
--> statement-breakpoint
CREATE INDEX `usage_day_bucket_idx` ON `usage_day` (`bucket`);
--> statement-breakpoint
CREATE TABLE `usage_day_total` (
	`bucket` integer PRIMARY KEY NOT NULL,
	`credits` real DEFAULT 0 NOT NULL,
	`requests` integer DEFAULT 0 NOT NULL,
	`errors` integer DEFAULT 0 NOT NULL,
	`auth_failures` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
INSERT INTO `migration_tasks` (`name`, `source`) VALUES ('usage_day', 'usage_day_rowid');
--> statement-breakpoint
CREATE TABLE `usage_month` (
	`key_id` text NOT NULL,
	`bucket` integer NOT NULL,
	`operation` text NOT NULL,
	`credits` real DEFAULT 0 NOT NULL,
	`requests` integer DEFAULT 0 NOT NULL,
	`errors` integer DEFAULT 0 NOT NULL,
	`auth_failures` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`key_id`, `bucket`, `operation`)
) WITHOUT ROWID;
--> statement-breakpoint
CREATE INDEX `usage_month_bucket_idx` ON `usage_month` (`bucket`);
--> statement-breakpoint
CREATE TABLE `key_networks` (
	`key_id` text NOT NULL,
	`network` text NOT NULL,
	`first_seen_at` integer NOT NULL,
	`last_seen_at` integer NOT NULL,
	`requests` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`key_id`, `network`)
) WITHOUT ROWID;
--> statement-breakpoint
CREATE INDEX `key_networks_last_seen_idx` ON `key_networks` (`last_seen_at`);
--> statement-breakpoint
INSERT INTO `migration_tasks` (`name`, `source`) VALUES ('key_networks', 'usage_events');
--> statement-breakpoint
DROP INDEX IF EXISTS `usage_events_source_ts_idx`;
