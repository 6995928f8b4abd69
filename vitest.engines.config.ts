import { defineConfig } from "vitest/config";
import base, { integration } from "./vitest.config.js";

/**
 * `npm run test:engines`: the portable subset of the suite (test/engines, every public API area) against the engine
 * named by DOCKER_HOST and its TLS variables: Podman, a remote engine over TLS or ssh, rootless engines.
 */
export default defineConfig({
  resolve: base.resolve,
  test: {
    ...integration,
    maxWorkers: base.test?.maxWorkers,
    include: ["test/engines/**/*.test.ts"],
    // Slower engines (Podman, a remote one through ssh) get the same tests with more time.
    testTimeout: 180_000,
  },
});
