CREATE TABLE `account_snapshot` (
	`id` integer PRIMARY KEY NOT NULL,
	`fetched_at` integer NOT NULL,
	`tier` text,
	`plan_name` text,
	`status` text,
	`billing_interval` text,
	`current_period_end` integer,
	`cancel_at_period_end` integer,
	`price_cents` integer,
	`currency` text,
	`discount_amount_off_cents` integer,
	`discount_percent_off` real
);
--> statement-breakpoint
CREATE TABLE `invoice_plan` (
	`id` integer PRIMARY KEY NOT NULL,
	`currency` text NOT NULL,
	`bands` text NOT NULL,
	`updated_at` integer NOT NULL,
	`updated_by` text NOT NULL
);
--> statement-breakpoint
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
--> statement-breakpoint
ALTER TABLE `keys` ADD `time_zone` text;