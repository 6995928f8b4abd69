import { defineConfig } from "vitest/config";
import base from "../../../vitest.config.js";

// Measurements of the MySQL module (numbers printed, nothing asserted on time), kept out of `npm test`:
//   npx vitest run --config test/modules/mysql/vitest.measure.config.ts
// The base config's aliases and global setup, with `include` replaced (mergeConfig would append to it).
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ["test/modules/mysql/**/*.measure.ts"],
    testTimeout: 600_000,
    maxWorkers: 1,
  },
});
