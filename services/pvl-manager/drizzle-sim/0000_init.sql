CREATE SCHEMA "pvl_sim";
--> statement-breakpoint
CREATE TABLE "pvl_sim"."cloud" (
	"id" integer PRIMARY KEY NOT NULL,
	"topology" jsonb NOT NULL,
	"activated" boolean DEFAULT true NOT NULL,
	"quota_services" integer DEFAULT 20 NOT NULL,
	"quota_endpoints" integer DEFAULT 50 NOT NULL,
	"provision_ms" integer DEFAULT 300 NOT NULL,
	"failures" jsonb DEFAULT '[]'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "pvl_sim"."resources" (
	"id" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"client_token" text NOT NULL,
	"owner" text NOT NULL,
	"key" text NOT NULL,
	"name" text,
	"service_id" text,
	"domain_name" text,
	"zones" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone,
	CONSTRAINT "resources_client_token_unique" UNIQUE("client_token")
);
--> statement-breakpoint
CREATE INDEX "resources_owner_idx" ON "pvl_sim"."resources" USING btree ("owner") WHERE "pvl_sim"."resources"."deleted_at" is null;