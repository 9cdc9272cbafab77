import { jsonb, pgSchema, text, timestamp } from "drizzle-orm/pg-core";

export const discoverySchema = pgSchema("discovery");

export type ClusterSourceSpec = { kubeconfig: string } | { kubeconfigPath: string } | { inCluster: true } | { manifests: string };

/** The cluster registry: which clusters this mesh discovers, and how. */
export const clusters = discoverySchema.table("clusters", {
  id: text("id").primaryKey(),
  source: jsonb("source").$type<ClusterSourceSpec>().notNull(),
  mode: text("mode").$type<"managed" | "discovery-only" | "remote-control-plane">().notNull(),
  network: text("network").notNull().default(""),
  region: text("region").notNull().default(""),
  zone: text("zone").notNull().default(""),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});
