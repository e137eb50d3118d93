CREATE TABLE `balance_samples` (
	`ts` integer PRIMARY KEY NOT NULL,
	`balance` real NOT NULL
);
--> statement-breakpoint
CREATE TABLE `source_state` (
	`name` text PRIMARY KEY NOT NULL,
	`status` text NOT NULL,
	`detail` text NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `webhook_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`provider` text NOT NULL,
	`type` text NOT NULL,
	`object_id` text NOT NULL,
	`event_ts` integer NOT NULL,
	`received_at` integer NOT NULL,
	`body` text NOT NULL,
	`processed_at` integer,
	`outcome` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `webhook_events_dedupe_idx` ON `webhook_events` (`provider`,`type`,`object_id`);--> statement-breakpoint
CREATE INDEX `webhook_events_received_idx` ON `webhook_events` (`received_at`);--> statement-breakpoint
CREATE INDEX `usage_events_source_ts_idx` ON `usage_events` (`source`,`ts`);