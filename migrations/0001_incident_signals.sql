ALTER TABLE `alert_notifications` ADD `silenced` text;--> statement-breakpoint
ALTER TABLE `alert_outbox` ADD `channel` text DEFAULT 'email' NOT NULL;--> statement-breakpoint
ALTER TABLE `alert_outbox` ADD `reason` text;--> statement-breakpoint
CREATE INDEX `alert_outbox_incident_idx` ON `alert_outbox` (`incident_id`,`channel`,`status`);--> statement-breakpoint
ALTER TABLE `incidents` ADD `subject` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `incidents` ADD `detected_at` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `incidents` ADD `signals` text DEFAULT '[]' NOT NULL;--> statement-breakpoint
CREATE INDEX `incidents_subject_state_idx` ON `incidents` (`subject`,`state`);--> statement-breakpoint
-- Incidents from before signals: each becomes an incident of its subject with itself as its one signal.
UPDATE `incidents` SET
  `subject` = CASE
    WHEN `kind` LIKE 'budget\_%' ESCAPE '\' THEN 'budget:' || coalesce(json_extract(`details`, '$.budget_id'), `id`)
    WHEN `key_id` IS NOT NULL THEN 'key:' || `key_id`
    ELSE 'account' END,
  `detected_at` = min(`last_seen_at`, `started_at` + 60000),
  `signals` = json_array(json_object(
    'kind', `kind`, 'severity', `severity`, 'started_at', `started_at`,
    'detected_at', min(`last_seen_at`, `started_at` + 60000), 'last_seen_at', `last_seen_at`,
    'observed', `observed`, 'expected', `expected`, 'score', `score`, 'impact', `impact_credits`,
    'unit', coalesce(json_extract(`details`, '$.unit'), 'credits'), 'summary', `summary`));
