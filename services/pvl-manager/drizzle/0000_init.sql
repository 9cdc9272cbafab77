CREATE SCHEMA "pvl_manager";
--> statement-breakpoint
CREATE TABLE "pvl_manager"."operations" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"config" text NOT NULL,
	"action" text NOT NULL,
	"resource_key" text NOT NULL,
	"resource_id" text,
	"client_token" text,
	"outcome" text NOT NULL,
	"detail" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "pvl_manager"."outbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"msg_id" text NOT NULL,
	"aggregate" text NOT NULL,
	"subject" text NOT NULL,
	"payload" text NOT NULL,
	"headers" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX "outbox_unsent_idx" ON "pvl_manager"."outbox" USING btree ("id") WHERE "pvl_manager"."outbox"."sent_at" is null;