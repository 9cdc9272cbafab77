import { defineConfig } from "vitest/config";

// Workspace packages resolve to their TypeScript sources through the "source" export
// condition, so tests never run against a stale build.
// Vite's own server conditions plus "source". Not "import": vitest hands these to Node as
// --conditions, and Node's require() would then load packages' ESM builds.
const conditions = ["source", "module", "node", "development|production"];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ["source"] } },
  test: {
    include: ["libs/*/test/**/*.test.ts", "services/*/test/**/*.test.ts", "cli/test/**/*.test.ts", "console/test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    globalSetup: ["libs/testing/src/global-setup.ts"],
    pool: "forks",
    // Two cores: fault tests spawn nats-server and child processes of their own.
    maxWorkers: 2,
  },
});
