// The remote-tls engine, when the run was handed one; the TLS client against a stand-in engine is tls.unit.test.ts.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Engine, EngineTlsError, GenericContainer, setEngine } from "throwaway";
import { describe, expect, it } from "vitest";
import { engineCandidates, realDiscoveryEnvironment } from "../../src/engine/discovery.js";

/** The engine discovery would use for this environment (DOCKER_HOST and friends). */
function engineFor(env: Record<string, string>): Engine {
  const [endpoint] = engineCandidates({ ...realDiscoveryEnvironment(), env });
  return new Engine(endpoint!);
}

/**
 * The remote-tls engine (`scripts/engine.sh ensure remote-tls`: a dockerd in a network namespace of its own, TLS
 * with client verification), when the run was handed one: its settings are the lines that command prints, kept as
 * remote-tls.env in the folder THROWAWAY_ENGINES_READY_DIR names (`.ci/run` provisions it and sets that). Only an
 * explicit folder counts: a file left from an earlier boot names an engine that no longer runs.
 */
const READY_DIR = process.env.THROWAWAY_ENGINES_READY_DIR;
const REMOTE_TLS_ENV = READY_DIR ? join(READY_DIR, "remote-tls.env") : undefined;
const remoteTls =
  REMOTE_TLS_ENV && existsSync(REMOTE_TLS_ENV)
    ? Object.fromEntries(
        readFileSync(REMOTE_TLS_ENV, "utf8")
          .split("\n")
          .map((line) => line.trim())
          .filter((line) => /^[A-Z_]+=/.test(line))
          .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
      )
    : undefined;
if (!remoteTls)
  console.log(
    `skipping the real TLS engine tests: no remote-tls.env in THROWAWAY_ENGINES_READY_DIR (${READY_DIR ?? "unset"}); see .ci/run`,
  );

describe.skipIf(!remoteTls)("a real TLS dockerd (remote-tls)", () => {
  it("starts, execs into and stops a container over verified TLS", async () => {
    const client = engineFor(remoteTls!);
    setEngine(client);
    try {
      await client.ping();
      const container = await new GenericContainer("busybox:latest")
        .withCommand(["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"])
        .start();
      try {
        expect((await container.exec(["echo", "over tls"])).stdout).toBe("over tls\n");
      } finally {
        await container.stop();
      }
    } finally {
      setEngine(undefined);
      client.close();
    }
  });

  it("fails when the same address is given as https:// without the client certificate the engine demands", async () => {
    const client = engineFor({ DOCKER_HOST: remoteTls!.DOCKER_HOST!.replace(/^tcp:/, "https:") });
    try {
      const error = await client.ping().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EngineTlsError);
      // A TLS failure, not an HTTP answer: over plain HTTP, dockerd would have answered 400 ("Client sent an HTTP
      // request to an HTTPS server").
      expect((error as { statusCode?: number }).statusCode).toBeUndefined();
      expect((error as NodeJS.ErrnoException).code).toBeDefined();
    } finally {
      client.close();
    }
  });
});
