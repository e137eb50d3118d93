-- Who called each key, per UTC day (source IPs and user agents), for the key page: WITHOUT ROWID,
-- clustered on the key and day (drizzle cannot say so). Filled from the raw events after this
-- migration by server/db/migration-tasks.ts, key by key with progress on stderr and a free-disk
-- check first.
CREATE TABLE `key_clients` (
	`key_id` text NOT NULL,
	`day` integer NOT NULL,
	`kind` text NOT NULL,
	`value` text NOT NULL,
	`requests` integer DEFAULT 0 NOT NULL,
	`credits` real DEFAULT 0 NOT NULL,
	`last_seen_at` integer NOT NULL,
	PRIMARY KEY(`key_id`, `day`, `kind`, `value`)
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `migration_tasks` (`name`, `source`) VALUES ('key_clients', 'usage_events');
