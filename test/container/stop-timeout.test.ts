// stop() and restart() grace periods in milliseconds (`timeoutMs`), the old seconds key with its deprecation
// warning, against the real engine: a container that exits cleanly on SIGTERM shows whether it was given the time.

import { execFileSync } from "node:child_process";
import { GenericContainer, InvalidOptionError, Wait } from "throwaway";
import { afterEach, describe, expect, it, vi } from "vitest";

// Says `bye` and exits 0 on SIGTERM (after a moment), so exit code 0 (or a `bye` in its log) means "stopped
// gracefully" and 137 means "killed".
const GRACEFUL = ["sh", "-c", "trap 'echo bye; sleep 0.2; exit 0' TERM; echo up; while true; do sleep 0.1; done"];

function graceful() {
  return new GenericContainer("busybox:latest").withCommand(GRACEFUL).withWaitStrategy(Wait.forLogMessage("up"));
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("stop and restart grace periods", () => {
  it("stop({ timeoutMs }) gives the container that long to exit on SIGTERM; without it, it is killed", async () => {
    const c = await graceful().start();
    const stopped = await c.stop({ timeoutMs: 5_000, remove: false });
    try {
      const exitCode = execFileSync("docker", ["inspect", "-f", "{{.State.ExitCode}}", c.getId()], { encoding: "utf8" }).trim();
      expect(exitCode).toBe("0");
    } finally {
      await stopped.remove();
    }
    const killed = await graceful().start();
    const kept = await killed.stop({ remove: false });
    try {
      const exitCode = execFileSync("docker", ["inspect", "-f", "{{.State.ExitCode}}", killed.getId()], { encoding: "utf8" }).trim();
      expect(exitCode).toBe("137");
    } finally {
      await kept.remove();
    }
  });

  it("restart({ timeoutMs }) lets the container stop gracefully before it starts again", async () => {
    await using c = await graceful().start();
    await c.restart({ timeoutMs: 5_000 });
    // The new run is up.
    const out = await c.exec(["sh", "-c", "echo alive"]);
    expect(out.stdout.trim()).toBe("alive");
    // The first run's log ends with its TERM handler's `bye`: it was given the time to run it (a kill leaves none).
    // The log rather than the engine's die event: `docker events --until` counts whole seconds and can miss it.
    const log = execFileSync("docker", ["logs", c.getId()], { encoding: "utf8" }).trim().split("\n");
    expect(log).toEqual(["up", "bye", "up"]);
  });

  it("the old seconds key still works, with one DeprecationWarning naming timeoutMs", async () => {
    const warn = vi.spyOn(process, "emitWarning").mockImplementation(() => {});
    const c = await graceful().start();
    const stopped = await c.stop({ timeout: 5, remove: false });
    try {
      expect(execFileSync("docker", ["inspect", "-f", "{{.State.ExitCode}}", c.getId()], { encoding: "utf8" }).trim()).toBe("0");
    } finally {
      await stopped.remove();
    }
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toContain("stop({ timeoutMs: 5000 })");
    expect(warn.mock.calls[0]![1]).toMatchObject({ type: "DeprecationWarning", code: "THROWAWAY_STOP_TIMEOUT_SECONDS" });
  });

  it("bad or doubled grace periods are InvalidOptionErrors, and the container is still there to stop", async () => {
    await using c = await graceful().start();
    for (const [options, option] of [
      [{ timeoutMs: -1 }, "stop({ timeoutMs })"],
      [{ timeoutMs: 1000, timeout: 1 }, "stop({ timeout })"],
    ] as const) {
      const error = await c.stop(options).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect((error as InvalidOptionError).option).toBe(option);
    }
  });
});
