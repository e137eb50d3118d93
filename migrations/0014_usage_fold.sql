CREATE TABLE `usage_fold` (
	`id` integer PRIMARY KEY NOT NULL,
	`folded_until` integer NOT NULL
);
--> statement-breakpoint
-- Events stored before this migration were written into the rollups with their batch: all folded.
INSERT INTO `usage_fold` (`id`, `folded_until`) SELECT 1, coalesce(max(rowid), 0) FROM `usage_events`;
