import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "postgresql",
  schema: "./services/pvl-manager/src/adapters/schema.ts",
  out: "./services/pvl-manager/drizzle",
  schemaFilter: ["pvl_manager"],
});
