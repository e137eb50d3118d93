DROP INDEX "projects_key_idx";--> statement-breakpoint
DROP INDEX "usage_hour_bucket_idx";--> statement-breakpoint
DROP INDEX "usage_minute_bucket_idx";--> statement-breakpoint
CREATE INDEX "projects_created_idx" ON "projects" USING btree ("created_at");