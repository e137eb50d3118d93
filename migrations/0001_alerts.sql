CREATE TABLE `alert_notifications` (
	`incident_id` text PRIMARY KEY NOT NULL,
	`notified_impact` real NOT NULL,
	`notified_severity` text NOT NULL,
	`count` integer NOT NULL,
	`last_notified_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `alert_outbox` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`message_id` text NOT NULL,
	`category` text NOT NULL,
	`incident_id` text,
	`recipients` text NOT NULL,
	`subject` text NOT NULL,
	`text` text NOT NULL,
	`html` text NOT NULL,
	`status` text DEFAULT 'pending' NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer NOT NULL,
	`last_attempt_at` integer,
	`last_error` text,
	`sent_at` integer,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `alert_outbox_message_id_unique` ON `alert_outbox` (`message_id`);--> statement-breakpoint
CREATE INDEX `alert_outbox_due_idx` ON `alert_outbox` (`status`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `alert_outbox_created_idx` ON `alert_outbox` (`created_at`);--> statement-breakpoint
CREATE TABLE `alert_routing` (
	`id` integer PRIMARY KEY NOT NULL,
	`routing` text NOT NULL,
	`updated_by` text NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `digests_sent` (
	`period` text PRIMARY KEY NOT NULL,
	`outbox_id` integer,
	`sent_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `budget_firings` (
	`budget_id` text NOT NULL,
	`period` text NOT NULL,
	`threshold` text NOT NULL,
	`incident_id` text NOT NULL,
	`fired_at` integer NOT NULL,
	PRIMARY KEY(`budget_id`, `period`, `threshold`)
);
--> statement-breakpoint
CREATE TABLE `budgets` (
	`id` text PRIMARY KEY NOT NULL,
	`scope` text NOT NULL,
	`target` text NOT NULL,
	`monthly_credits` real NOT NULL,
	`thresholds` text NOT NULL,
	`notify_forecast` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `budgets_scope_target_idx` ON `budgets` (`scope`,`target`);