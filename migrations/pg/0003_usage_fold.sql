CREATE TABLE "usage_fold" (
	"id" integer PRIMARY KEY NOT NULL,
	"folded_until" bigint NOT NULL
);
--> statement-breakpoint
-- Unused on PostgreSQL (rollups are written with each batch); the row keeps the mirror's shape.
INSERT INTO "usage_fold" ("id", "folded_until") VALUES (1, 0);
