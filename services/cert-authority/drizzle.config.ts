import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "postgresql",
  schema: "./services/cert-authority/src/adapters/schema.ts",
  out: "./services/cert-authority/drizzle",
  schemaFilter: ["cert_authority"],
});
