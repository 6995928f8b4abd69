import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// A project of its own, run by test/vitest/vitest-integration.test.ts in a child process: its files end in
// `.spec.ts` so the repository's own run (which collects `*.test.ts`) never picks them up.
const src = (path: string) => fileURLToPath(new URL(`../../../src/${path}`, import.meta.url));
const pool = process.env.FIXTURE_POOL === "threads" ? "threads" : "forks";

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  resolve: {
    alias: [
      { find: /^throwaway\/mysql$/, replacement: src("modules/mysql/index.ts") },
      { find: /^throwaway\/vitest$/, replacement: src("vitest/index.ts") },
      { find: /^throwaway$/, replacement: src("index.ts") },
    ],
  },
  test: {
    include: ["*.spec.ts"],
    pool,
    // Workers run several files each, so worker-scoped fixtures are really shared (with isolation every file gets a
    // fresh worker and `worker` behaves like `file`).
    isolate: false,
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    globalSetup: ["global-session.ts", "global-containers.ts"],
  },
});
