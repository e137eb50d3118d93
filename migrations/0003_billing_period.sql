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
