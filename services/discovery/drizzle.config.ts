import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "postgresql",
  schema: "./services/discovery/src/adapters/schema.ts",
  out: "./services/discovery/drizzle",
  schemaFilter: ["discovery"],
});
