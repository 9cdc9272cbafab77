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
