CREATE SCHEMA "discovery";
--> statement-breakpoint
CREATE TABLE "discovery"."clusters" (
	"id" text PRIMARY KEY NOT NULL,
	"source" jsonb NOT NULL,
	"mode" text NOT NULL,
	"network" text DEFAULT '' NOT NULL,
	"region" text DEFAULT '' NOT NULL,
	"zone" text DEFAULT '' NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "discovery"."outbox" (
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
CREATE INDEX "outbox_unsent_idx" ON "discovery"."outbox" USING btree ("id") WHERE "discovery"."outbox"."sent_at" is null;