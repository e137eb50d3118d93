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
