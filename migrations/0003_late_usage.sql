CREATE TABLE `detector_checkpoints` (
	`key_id` text NOT NULL,
	`at` integer NOT NULL,
	`state` text NOT NULL,
	PRIMARY KEY(`key_id`, `at`)
);
--> statement-breakpoint
CREATE TABLE `late_usage` (
	`key_id` text PRIMARY KEY NOT NULL,
	`earliest_ts` integer NOT NULL,
	`arrived_at` integer NOT NULL,
	`alert` integer NOT NULL
);
