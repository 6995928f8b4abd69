import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (path: string) => fileURLToPath(new URL(`./src/${path}`, import.meta.url));

// Tests and examples import the package by its public names; point those at the sources.
const alias = [
  { find: /^throwaway\/mysql$/, replacement: src("modules/mysql/index.ts") },
  { find: /^throwaway\/compose$/, replacement: src("compose/index.ts") },
  { find: /^throwaway\/vitest$/, replacement: src("vitest/index.ts") },
  { find: /^throwaway$/, replacement: src("index.ts") },
];

const exclude = ["**/node_modules/**", "**/dist/**", "test/support/**"];

/**
 * Tests that need no engine (pure logic, fakes, servers of their own on 127.0.0.1): everything under `src/`, and
 * `*.unit.test.ts` elsewhere. CI runs them where no engine is reachable (`.ci/no-engine`), so one that quietly
 * needs an engine fails there.
 */
const unit = ["src/**/*.test.ts", "test/**/*.unit.test.ts", "examples/**/*.unit.test.ts"];

/**
 * The engine-backed tests, with the global setup that fails the run when any of them leaves a container or a
 * network behind. Configs of their own (vitest.engines.config.ts, the MySQL measurements) start from these.
 */
export const integration = {
  include: ["test/**/*.test.ts", "examples/**/*.test.ts"],
  exclude: [...exclude, ...unit],
  testTimeout: 120_000,
  hookTimeout: 180_000,
  globalSetup: ["test/global-setup.ts"],
};

export default defineConfig({
  resolve: { alias },
  test: {
    // Two cores: more workers only contend for the engine.
    maxWorkers: 2,
    // `npm run test:unit` and `npm run test:integration` run one project (`--project`); `npm test` runs both.
    projects: [
      {
        resolve: { alias },
        test: { name: "unit", include: unit, exclude, testTimeout: 120_000, hookTimeout: 180_000 },
      },
      { resolve: { alias }, test: { name: "integration", ...integration } },
    ],
  },
});
