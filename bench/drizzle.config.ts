import { defineConfig } from "drizzle-kit";

export default defineConfig({ dialect: "postgresql", schema: "./bench/src/schema.ts", out: "./bench/drizzle", schemaFilter: ["bench"] });
