-- Day sums per operation over every key, clustered on (operation, bucket) (WITHOUT ROWID: drizzle
-- cannot say so), filled from the day rollup they sum: under a million rows read once, seconds.
-- (On a database whose 0004 copy is still pending the day table is empty here; that copy fills it.)
CREATE TABLE `usage_operation_day` (
	`operation` text NOT NULL,
	`bucket` integer NOT NULL,
	`credits` real DEFAULT 0 NOT NULL,
	`requests` integer DEFAULT 0 NOT NULL,
	`errors` integer DEFAULT 0 NOT NULL,
	`auth_failures` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`operation`, `bucket`)
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `usage_operation_day` (`operation`, `bucket`, `credits`, `requests`, `errors`, `auth_failures`)
	SELECT `operation`, `bucket`, sum(`credits`), sum(`requests`), sum(`errors`), sum(`auth_failures`)
	FROM `usage_day` GROUP BY `operation`, `bucket`;
