import { sql } from "drizzle-orm";
import { boolean, index, integer, jsonb, pgSchema, text, timestamp } from "drizzle-orm/pg-core";
import type { CloudTopology } from "../domain/topology.js";

/** The simulated cloud's own state: a stand-in for a region's VPC/PrivateLink control plane. */
export const simSchema = pgSchema("pvl_sim");

export const simCloud = simSchema.table("cloud", {
  id: integer("id").primaryKey(),
  topology: jsonb("topology").$type<CloudTopology>().notNull(),
  activated: boolean("activated").notNull().default(true),
  quotaServices: integer("quota_services").notNull().default(20),
  quotaEndpoints: integer("quota_endpoints").notNull().default(50),
  provisionMs: integer("provision_ms").notNull().default(300),
  /** Injected failures: { op: "createEndpoint" | "createEndpointService" | "delete", code, times }. */
  failures: jsonb("failures").$type<Array<{ op: string; code: string; times: number }>>().notNull().default([]),
});

export const simResources = simSchema.table(
  "resources",
  {
    id: text("id").primaryKey(),
    kind: text("kind").$type<"service" | "endpoint">().notNull(),
    clientToken: text("client_token").notNull().unique(),
    owner: text("owner").notNull(),
    key: text("key").notNull(),
    name: text("name"),
    serviceId: text("service_id"),
    domainName: text("domain_name"),
    zones: jsonb("zones").$type<string[]>().notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    deletedAt: timestamp("deleted_at", { withTimezone: true }),
  },
  (t) => [index("resources_owner_idx").on(t.owner).where(sql`${t.deletedAt} is null`)],
);
