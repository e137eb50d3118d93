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
CREATE TABLE `api_tokens` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`token_hash` text NOT NULL,
	`last4` text NOT NULL,
	`scopes` text NOT NULL,
	`created_at` integer NOT NULL,
	`created_by` text NOT NULL,
	`last_used_at` integer,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_tokens_token_hash_unique` ON `api_tokens` (`token_hash`);--> statement-breakpoint
CREATE TABLE `audit_log` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`ts` integer NOT NULL,
	`actor` text NOT NULL,
	`action` text NOT NULL,
	`target` text,
	`details` text
);
--> statement-breakpoint
CREATE INDEX `audit_log_ts_idx` ON `audit_log` (`ts`);--> statement-breakpoint
CREATE TABLE `sessions` (
	`id_hash` text PRIMARY KEY NOT NULL,
	`user_id` integer NOT NULL,
	`csrf_token` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `sessions_user_idx` ON `sessions` (`user_id`);--> statement-breakpoint
CREATE TABLE `users` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`email` text NOT NULL,
	`password_hash` text NOT NULL,
	`role` text NOT NULL,
	`created_at` integer NOT NULL,
	`last_login_at` integer,
	`disabled_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `users_email_unique` ON `users` (`email`);--> statement-breakpoint
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
CREATE UNIQUE INDEX `budgets_scope_target_idx` ON `budgets` (`scope`,`target`);--> statement-breakpoint
CREATE TABLE `detection_rules` (
	`kind` text NOT NULL,
	`key_id` text DEFAULT '' NOT NULL,
	`enabled` integer,
	`params` text DEFAULT '{}' NOT NULL,
	`updated_by` text NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`kind`, `key_id`)
);
--> statement-breakpoint
CREATE TABLE `detector_state` (
	`key_id` text PRIMARY KEY NOT NULL,
	`state` text NOT NULL,
	`evaluated_until` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `detection_adjustments` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`key_id` text,
	`kind` text,
	`type` text NOT NULL,
	`from` integer NOT NULL,
	`until` integer,
	`factor` real,
	`incident_id` text,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`key_id`) REFERENCES `keys`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `detection_adjustments_key_idx` ON `detection_adjustments` (`key_id`,`from`);--> statement-breakpoint
CREATE TABLE `incidents` (
	`id` text PRIMARY KEY NOT NULL,
	`key_id` text,
	`kind` text NOT NULL,
	`severity` text NOT NULL,
	`state` text NOT NULL,
	`started_at` integer NOT NULL,
	`last_seen_at` integer NOT NULL,
	`resolved_at` integer,
	`observed` real NOT NULL,
	`expected` real NOT NULL,
	`score` real NOT NULL,
	`impact_credits` real DEFAULT 0 NOT NULL,
	`summary` text NOT NULL,
	`details` text DEFAULT '{}' NOT NULL,
	`acknowledged_by` text,
	`acknowledged_at` integer,
	`note` text,
	`snoozed_until` integer,
	`feedback` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`key_id`) REFERENCES `keys`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `incidents_key_kind_state_idx` ON `incidents` (`key_id`,`kind`,`state`);--> statement-breakpoint
CREATE INDEX `incidents_started_idx` ON `incidents` (`started_at`);--> statement-breakpoint
CREATE TABLE `keys` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`provider` text DEFAULT 'magichour' NOT NULL,
	`fingerprint` text,
	`last4` text,
	`environment` text,
	`owner` text,
	`status` text DEFAULT 'active' NOT NULL,
	`budget_credits` real,
	`notes` text,
	`created_at` integer NOT NULL,
	`revoked_at` integer,
	`first_seen_at` integer,
	`last_used_at` integer,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `keys_name_unique` ON `keys` (`name`);--> statement-breakpoint
CREATE UNIQUE INDEX `keys_fingerprint_unique` ON `keys` (`fingerprint`);--> statement-breakpoint
CREATE INDEX `keys_status_idx` ON `keys` (`status`);--> statement-breakpoint
CREATE TABLE `projects` (
	`id` text PRIMARY KEY NOT NULL,
	`key_id` text,
	`kind` text,
	`operation` text,
	`status` text,
	`created_at` integer NOT NULL,
	`estimated_credits` real,
	`final_credits` real,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`key_id`) REFERENCES `keys`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `projects_key_idx` ON `projects` (`key_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `unattributed_spend` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`ts` integer NOT NULL,
	`until` integer NOT NULL,
	`source` text NOT NULL,
	`credits` real NOT NULL,
	`project_id` text,
	`details` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `unattributed_spend_ts_idx` ON `unattributed_spend` (`ts`);--> statement-breakpoint
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
CREATE TABLE `usage_day` (
	`key_id` text NOT NULL,
	`bucket` integer NOT NULL,
	`operation` text NOT NULL,
	`credits` real DEFAULT 0 NOT NULL,
	`requests` integer DEFAULT 0 NOT NULL,
	`errors` integer DEFAULT 0 NOT NULL,
	`auth_failures` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`key_id`, `bucket`, `operation`)
);
--> statement-breakpoint
CREATE INDEX `usage_day_bucket_idx` ON `usage_day` (`bucket`);--> statement-breakpoint
CREATE TABLE `usage_events` (
	`source` text NOT NULL,
	`event_id` text NOT NULL,
	`key_id` text NOT NULL,
	`ts` integer NOT NULL,
	`credits` real NOT NULL,
	`requests` integer NOT NULL,
	`status` integer NOT NULL,
	`operation` text NOT NULL,
	`source_ip` text,
	`user_agent` text,
	`project_id` text,
	`latency_ms` real,
	`received_at` integer NOT NULL,
	PRIMARY KEY(`source`, `event_id`),
	FOREIGN KEY (`key_id`) REFERENCES `keys`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `usage_events_key_ts_idx` ON `usage_events` (`key_id`,`ts`);--> statement-breakpoint
CREATE INDEX `usage_events_ts_idx` ON `usage_events` (`ts`);--> statement-breakpoint
CREATE INDEX `usage_events_source_ts_idx` ON `usage_events` (`source`,`ts`);--> statement-breakpoint
CREATE TABLE `usage_hour` (
	`key_id` text NOT NULL,
	`bucket` integer NOT NULL,
	`operation` text NOT NULL,
	`credits` real DEFAULT 0 NOT NULL,
	`requests` integer DEFAULT 0 NOT NULL,
	`errors` integer DEFAULT 0 NOT NULL,
	`auth_failures` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`key_id`, `bucket`, `operation`)
);
--> statement-breakpoint
CREATE INDEX `usage_hour_bucket_idx` ON `usage_hour` (`bucket`);--> statement-breakpoint
CREATE TABLE `usage_minute` (
	`key_id` text NOT NULL,
	`bucket` integer NOT NULL,
	`operation` text NOT NULL,
	`credits` real DEFAULT 0 NOT NULL,
	`requests` integer DEFAULT 0 NOT NULL,
	`errors` integer DEFAULT 0 NOT NULL,
	`auth_failures` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`key_id`, `bucket`, `operation`)
);
--> statement-breakpoint
CREATE INDEX `usage_minute_bucket_idx` ON `usage_minute` (`bucket`);