CREATE TABLE "usage_fold" (
	"id" integer PRIMARY KEY NOT NULL,
	"folded_until" bigint NOT NULL
);
