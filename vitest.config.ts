import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (path: string) => fileURLToPath(new URL(`./src/${path}`, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests and examples import the package by its public names; point those at the sources.
    alias: [
      { find: /^throwaway\/mysql$/, replacement: src("modules/mysql/index.ts") },
      { find: /^throwaway\/compose$/, replacement: src("compose/index.ts") },
      { find: /^throwaway\/vitest$/, replacement: src("vitest/index.ts") },
      { find: /^throwaway$/, replacement: src("index.ts") },
    ],
  },
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts", "examples/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**", "test/support/**"],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // Two cores: more workers only contend for the engine.
    maxWorkers: 2,
    globalSetup: ["test/global-setup.ts"],
  },
});
