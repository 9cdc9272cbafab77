import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "postgresql",
  schema: "./services/pvl-manager/src/adapters/sim-schema.ts",
  out: "./services/pvl-manager/drizzle-sim",
  schemaFilter: ["pvl_sim"],
});
