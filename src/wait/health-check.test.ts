import { describe, expect, it } from "vitest";
import { deferred, FakeTarget, fakeContext, fakeInspect } from "../../test/wait/fake-target.js";
import type { ContainerState } from "../engine/types.js";
import { ContainerNotReadyError } from "../errors.js";
import { HealthCheckWaitStrategy } from "./health-check.js";
import { runWait } from "./run.js";
import type { ExitInfo } from "./strategy.js";

type Health = NonNullable<ContainerState["Health"]>;

function healthTarget(...statuses: Health[]) {
  let n = 0;
  return new FakeTarget({
    inspect: () => fakeInspect({ Health: statuses[Math.min(n++, statuses.length - 1)]! }, { healthTest: ["CMD-SHELL", "check"] }),
  });
}

describe("Wait.forHealthCheck", () => {
  it("describes itself", () => {
    expect(new HealthCheckWaitStrategy().describe()).toBe("health check healthy");
  });

  it("waits through `starting` until `healthy`", async () => {
    const target = healthTarget(
      { Status: "starting", FailingStreak: 0 },
      { Status: "starting", FailingStreak: 1, Log: [{ ExitCode: 1, Output: "connection refused\n" }] },
      { Status: "healthy", FailingStreak: 0 },
    );
    const { context, recorded } = fakeContext();
    await new HealthCheckWaitStrategy().waitUntilReady(target, context);
    expect(target.calls.inspect).toBe(3);
    expect(recorded.lastError).toBe('health status is starting; last check exited 1: "connection refused"');
  });

  it("fails at once on `unhealthy`, with the last check's output", async () => {
    const target = healthTarget({ Status: "unhealthy", FailingStreak: 3, Log: [{ ExitCode: 1, Output: "pg_isready: no response" }] });
    const error = (await runWait({
      strategy: new HealthCheckWaitStrategy(),
      target,
      timeoutMs: 60_000,
      exited: deferred<ExitInfo>().promise,
      context: { containerId: target.id, image: "postgres:16" },
      tailLogs: async () => "",
    }).catch((e: unknown) => e)) as ContainerNotReadyError;
    expect(error).toBeInstanceOf(ContainerNotReadyError);
    expect(error.shortMessage).toBe(
      'Container 3f2a9c1b7d10 (postgres:16) can never become ready for health check healthy: the health check reports unhealthy after 3 failing checks; last check exited 1: "pg_isready: no response"',
    );
    expect(target.calls.inspect).toBe(2); // one probe, one inspect for the error's state line
  });

  it("fails at once when the container has no health check", async () => {
    const target = new FakeTarget({ inspect: () => fakeInspect() });
    const { context } = fakeContext();
    await expect(new HealthCheckWaitStrategy().waitUntilReady(target, context)).rejects.toThrow(
      "the container has no health check: add one with withHealthCheck({ test }), or choose another wait strategy",
    );
  });

  it("stops at once when aborted", async () => {
    const target = healthTarget({ Status: "starting", FailingStreak: 0 });
    const { context, abort } = fakeContext();
    const waiting = new HealthCheckWaitStrategy().waitUntilReady(target, context);
    await new Promise((resolve) => setTimeout(resolve, 30));
    const reason = new Error("deadline");
    abort(reason);
    await expect(waiting).rejects.toBe(reason);
  });
});
