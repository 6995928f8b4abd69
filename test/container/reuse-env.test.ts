// THROWAWAY_REUSE against the real engine: `false` turns withReuse() off (fresh containers, removed on stop),
// `true` keeps it, and a bad value names the variable.

import { execFileSync } from "node:child_process";
import { GenericContainer } from "throwaway";
import { afterEach, describe, expect, it } from "vitest";

const IDLE = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"];
const saved = process.env.THROWAWAY_REUSE;

afterEach(() => {
  if (saved === undefined) delete process.env.THROWAWAY_REUSE;
  else process.env.THROWAWAY_REUSE = saved;
});

function exists(id: string): boolean {
  return execFileSync("docker", ["ps", "-aq", "--no-trunc", "--filter", `id=${id}`], { encoding: "utf8" }).trim() !== "";
}

/** A reusable configuration unique to this run, so no earlier run's container is found. */
function reusable(tag: string): GenericContainer {
  return new GenericContainer("busybox:latest")
    .withCommand(IDLE)
    .withEnvironment({ REUSE_ENV_TEST: `${process.pid}-${Date.now()}-${tag}` })
    .withExposedPorts(8080)
    .withWaitStrategy({
      describe: () => "started",
      startupTimeoutMs: undefined,
      withStartupTimeout() {
        return this;
      },
      waitUntilReady: async () => {},
    });
}

describe("THROWAWAY_REUSE", () => {
  it("false: withReuse() is ignored, each start makes its own container and stop() removes it", async () => {
    process.env.THROWAWAY_REUSE = "false";
    const config = reusable("off");
    const first = await config.withReuse().start();
    const second = await config.start();
    try {
      expect(second.getId()).not.toBe(first.getId());
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }
    expect(exists(first.getId())).toBe(false);
    expect(exists(second.getId())).toBe(false);
  });

  it("true: withReuse() reuses as without the variable", async () => {
    process.env.THROWAWAY_REUSE = "true";
    const config = reusable("on").withReuse();
    const first = await config.start();
    try {
      const second = await config.start();
      expect(second.getId()).toBe(first.getId());
    } finally {
      await first.stop({ remove: true });
    }
  });
});
