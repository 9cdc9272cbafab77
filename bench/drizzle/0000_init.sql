CREATE SCHEMA "bench";
--> statement-breakpoint
CREATE TABLE "bench"."outbox" (
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
CREATE INDEX "outbox_unsent_idx" ON "bench"."outbox" USING btree ("id") WHERE "bench"."outbox"."sent_at" is null;