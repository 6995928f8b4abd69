// withUlimits, withSecurityOpt, withIpcMode, withDefaultLogDriver and withAutoRemove against the real engine,
// observed from inside the container or from the engine's own record of it.

import { execFileSync } from "node:child_process";
import { GenericContainer, Wait } from "throwaway";
import { describe, expect, it } from "vitest";

const IDLE = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"];

function busybox(): GenericContainer {
  // Nothing listens: ready as soon as a command runs in it.
  return new GenericContainer("busybox:latest").withCommand(IDLE).withWaitStrategy(Wait.forSuccessfulCommand(["true"]));
}

function exists(id: string): boolean {
  return execFileSync("docker", ["ps", "-aq", "--no-trunc", "--filter", `id=${id}`], { encoding: "utf8" }).trim() !== "";
}

describe("host options", () => {
  it("ulimits, security options, IPC mode and the json-file log driver reach the container", async () => {
    await using c = await busybox()
      .withUlimits({ nofile: { soft: 1000, hard: 2000 } })
      .withUlimits({ nproc: { soft: 300, hard: 300 } })
      .withSecurityOpt("no-new-privileges")
      .withIpcMode("private")
      .withDefaultLogDriver()
      .start();
    const limits = await c.exec(["sh", "-c", "ulimit -Sn; ulimit -Hn; ulimit -u"]);
    expect(limits.stdout.trim().split("\n")).toEqual(["1000", "2000", "300"]);
    const status = await c.exec(["sh", "-c", "grep NoNewPrivs /proc/self/status"]);
    expect(status.stdout).toMatch(/NoNewPrivs:\s+1/);
    const host = c.getInspectResult().HostConfig as { IpcMode?: string; LogConfig?: { Type?: string } };
    expect(host.IpcMode).toBe("private");
    expect(host.LogConfig?.Type).toBe("json-file");
  });

  it("withAutoRemove(false) makes stop() keep the stopped container; stop({ remove: true }) still removes", async () => {
    const kept = await busybox().withAutoRemove(false).start();
    const stopped = await kept.stop();
    expect(stopped.removed).toBe(false);
    expect(exists(kept.getId())).toBe(true);
    await stopped.remove();
    expect(exists(kept.getId())).toBe(false);

    const removed = await busybox().withAutoRemove(false).start();
    expect((await removed.stop({ remove: true })).removed).toBe(true);
    expect(exists(removed.getId())).toBe(false);
  });
});
