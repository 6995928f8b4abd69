import { defineConfig } from "vitest/config";
import base, { integration } from "../../../vitest.config.js";

// Measurements of the MySQL module (numbers printed, nothing asserted on time), kept out of `npm test`:
//   npx vitest run --config test/modules/mysql/vitest.measure.config.ts
// The base config's aliases and the integration project's global setup, with `include` replaced.
export default defineConfig({
  resolve: base.resolve,
  test: {
    ...integration,
    include: ["test/modules/mysql/**/*.measure.ts"],
    testTimeout: 600_000,
    maxWorkers: 1,
  },
});
