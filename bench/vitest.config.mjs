import { defineConfig } from "vitest/config";

// The bench's own tests (its pure logic, and the counting proxy against the real engine). Kept out of `npm test`
// on purpose: run them with `npx vitest run --config bench/vitest.config.mjs`.
export default defineConfig({
  test: {
    root: new URL("..", import.meta.url).pathname,
    include: ["bench/test/**/*.test.mjs"],
    testTimeout: 60_000,
  },
});
