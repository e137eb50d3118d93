CREATE TABLE `key_rotations` (
	`old_key_id` text PRIMARY KEY NOT NULL,
	`new_key_id` text NOT NULL,
	`quiet_minutes` integer DEFAULT 1440 NOT NULL,
	`started_at` integer NOT NULL,
	`created_by` text NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`old_key_id`) REFERENCES `keys`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`new_key_id`) REFERENCES `keys`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `key_rotations_new_key_idx` ON `key_rotations` (`new_key_id`);