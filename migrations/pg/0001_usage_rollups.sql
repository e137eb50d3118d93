CREATE TABLE "key_clients" (
	"key_id" text NOT NULL,
	"day" bigint NOT NULL,
	"kind" text NOT NULL,
	"value" text NOT NULL,
	"requests" bigint DEFAULT 0 NOT NULL,
	"credits" double precision DEFAULT 0 NOT NULL,
	"last_seen_at" bigint NOT NULL,
	CONSTRAINT "key_clients_key_id_day_kind_value_pk" PRIMARY KEY("key_id","day","kind","value")
);
--> statement-breakpoint
CREATE TABLE "usage_key_day" (
	"key_id" text NOT NULL,
	"bucket" bigint NOT NULL,
	"credits" double precision DEFAULT 0 NOT NULL,
	"requests" bigint DEFAULT 0 NOT NULL,
	"errors" bigint DEFAULT 0 NOT NULL,
	"auth_failures" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "usage_key_day_key_id_bucket_pk" PRIMARY KEY("key_id","bucket")
);
--> statement-breakpoint
CREATE TABLE "usage_key_month" (
	"key_id" text NOT NULL,
	"bucket" bigint NOT NULL,
	"credits" double precision DEFAULT 0 NOT NULL,
	"requests" bigint DEFAULT 0 NOT NULL,
	"errors" bigint DEFAULT 0 NOT NULL,
	"auth_failures" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "usage_key_month_key_id_bucket_pk" PRIMARY KEY("key_id","bucket")
);
--> statement-breakpoint
CREATE TABLE "usage_operation_day" (
	"operation" text NOT NULL,
	"bucket" bigint NOT NULL,
	"credits" double precision DEFAULT 0 NOT NULL,
	"requests" bigint DEFAULT 0 NOT NULL,
	"errors" bigint DEFAULT 0 NOT NULL,
	"auth_failures" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "usage_operation_day_operation_bucket_pk" PRIMARY KEY("operation","bucket")
);
--> statement-breakpoint
DROP INDEX "usage_day_bucket_idx";