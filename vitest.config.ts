import { defineConfig } from "vitest/config";

// Workspace packages resolve to their TypeScript sources through the "source" export
// condition, so tests never run against a stale build.
export default defineConfig({
  resolve: { conditions: ["source", "import", "node", "default"] },
  ssr: { resolve: { conditions: ["source", "import", "node", "default"], externalConditions: ["source"] } },
  test: {
    include: ["libs/*/test/**/*.test.ts", "services/*/test/**/*.test.ts", "cli/test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    globalSetup: ["libs/testing/src/global-setup.ts"],
    pool: "forks",
    // Two cores: fault tests spawn nats-server and child processes of their own.
    maxWorkers: 2,
  },
});
