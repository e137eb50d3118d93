-- Day and month sums per key over every operation, clustered on (key_id, bucket) like the bucket
-- tables (WITHOUT ROWID: drizzle cannot say so). Filled here from the day and month rollups they
-- sum: a year of 1,000 keys is under a million day rows read once, a few seconds.
CREATE TABLE `usage_key_day` (
	`key_id` text NOT NULL,
	`bucket` integer NOT NULL,
	`credits` real DEFAULT 0 NOT NULL,
	`requests` integer DEFAULT 0 NOT NULL,
	`errors` integer DEFAULT 0 NOT NULL,
	`auth_failures` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`key_id`, `bucket`)
) WITHOUT ROWID;
--> statement-breakpoint
CREATE TABLE `usage_key_month` (
	`key_id` text NOT NULL,
	`bucket` integer NOT NULL,
	`credits` real DEFAULT 0 NOT NULL,
	`requests` integer DEFAULT 0 NOT NULL,
	`errors` integer DEFAULT 0 NOT NULL,
	`auth_failures` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`key_id`, `bucket`)
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `usage_key_day` (`key_id`, `bucket`, `credits`, `requests`, `errors`, `auth_failures`)
	SELECT `key_id`, `bucket`, sum(`credits`), sum(`requests`), sum(`errors`), sum(`auth_failures`)
	FROM `usage_day` GROUP BY `key_id`, `bucket`;
--> statement-breakpoint
INSERT INTO `usage_key_month` (`key_id`, `bucket`, `credits`, `requests`, `errors`, `auth_failures`)
	SELECT `key_id`, `bucket`, sum(`credits`), sum(`requests`), sum(`errors`), sum(`auth_failures`)
	FROM `usage_month` GROUP BY `key_id`, `bucket`;
--> statement-breakpoint
-- Statistics for the planner, so a range over every key seeks each key's run (a skip-scan) rather
-- than reading the whole table.
ANALYZE `usage_key_day`;
--> statement-breakpoint
ANALYZE `usage_key_month`;
