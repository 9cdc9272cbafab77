CREATE SCHEMA "cert_authority";
--> statement-breakpoint
CREATE TABLE "cert_authority"."bootstrap_tokens" (
	"id" text PRIMARY KEY NOT NULL,
	"secret_hash" text NOT NULL,
	"namespace" text NOT NULL,
	"service_account" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"uses" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "cert_authority"."ca_version" (
	"id" integer PRIMARY KEY NOT NULL,
	"version" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "cert_authority"."certificates" (
	"serial" text PRIMARY KEY NOT NULL,
	"spiffe_id" text NOT NULL,
	"not_before" timestamp with time zone NOT NULL,
	"not_after" timestamp with time zone NOT NULL,
	"requester" text NOT NULL,
	"cluster" text,
	"issuer_serial" text NOT NULL,
	"issued_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone,
	"revoke_reason" text
);
--> statement-breakpoint
CREATE TABLE "cert_authority"."inbox" (
	"consumer" text NOT NULL,
	"event_id" text NOT NULL,
	"applied_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "inbox_consumer_event_id_pk" PRIMARY KEY("consumer","event_id")
);
--> statement-breakpoint
CREATE TABLE "cert_authority"."issuers" (
	"serial" text PRIMARY KEY NOT NULL,
	"mesh" text NOT NULL,
	"chain_pem" text NOT NULL,
	"wrapped_key" text NOT NULL,
	"root_fingerprint" text NOT NULL,
	"not_after" timestamp with time zone NOT NULL,
	"active" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "cert_authority"."outbox" (
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
CREATE TABLE "cert_authority"."trust_roots" (
	"fingerprint" text PRIMARY KEY NOT NULL,
	"cert_pem" text NOT NULL,
	"added_at" timestamp with time zone DEFAULT now() NOT NULL,
	"removed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX "certificates_spiffe_idx" ON "cert_authority"."certificates" USING btree ("spiffe_id");--> statement-breakpoint
CREATE UNIQUE INDEX "issuers_one_active" ON "cert_authority"."issuers" USING btree ("mesh") WHERE "cert_authority"."issuers"."active";--> statement-breakpoint
CREATE INDEX "outbox_unsent_idx" ON "cert_authority"."outbox" USING btree ("id") WHERE "cert_authority"."outbox"."sent_at" is null;