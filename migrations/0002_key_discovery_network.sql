ALTER TABLE `keys` ADD `discovered_network` text;--> statement-breakpoint
CREATE INDEX `keys_discovered_network_idx` ON `keys` (`discovered_network`,`created_at`);