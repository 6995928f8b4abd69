import { describe, expect, it } from "vitest";
import { deferred, execResult, FakeTarget, fakeContext, fakeInspect, LogFeed, waitOnFake } from "../../test/wait/fake-target.js";
import type { ContainerState } from "../engine/types.js";
import { ContainerNotReadyError } from "../errors.js";
import { HealthCheckWaitStrategy } from "./health-check.js";
import { runWait } from "./run.js";
import type { ExitInfo } from "./strategy.js";

type Health = NonNullable<ContainerState["Health"]>;

/** A target whose inspect answers these health states in turn (the last one repeats); optionally with events. */
function healthTarget(statuses: Health[], events?: LogFeed) {
  let n = 0;
  return new FakeTarget({
    ...(events ? { healthEvents: events } : {}),
    inspect: () => fakeInspect({ Health: statuses[Math.min(n++, statuses.length - 1)]! }, { healthTest: ["CMD-SHELL", "check"] }),
  });
}

describe("Wait.forHealthCheck", () => {
  it("describes itself", () => {
    expect(new HealthCheckWaitStrategy().describe()).toBe("health check healthy");
  });

  it("polls through `starting` until `healthy` when the target has no events", async () => {
    const target = healthTarget([
      { Status: "starting", FailingStreak: 0 },
      { Status: "starting", FailingStreak: 1, Log: [{ ExitCode: 1, Output: "connection refused\n" }] },
      { Status: "healthy", FailingStreak: 0 },
    ]);
    const { context, recorded } = fakeContext();
    await new HealthCheckWaitStrategy().waitUntilReady(target, context);
    expect(target.calls.inspect).toBe(3);
    expect(recorded.lastError).toBe('health status is starting; last check exited 1: "connection refused"');
  });

  it("fails at once on `unhealthy`, with the last check's output", async () => {
    const target = healthTarget([{ Status: "unhealthy", FailingStreak: 3, Log: [{ ExitCode: 1, Output: "pg_isready: no response" }] }]);
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

  it("follows the engine's health events instead of polling", async () => {
    const events = new LogFeed();
    const target = healthTarget([{ Status: "starting", FailingStreak: 0 }], events);
    const { context, recorded } = fakeContext();
    const waiting = new HealthCheckWaitStrategy().waitUntilReady(target, context);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(target.calls.inspect).toBe(1); // one look for a status reached before subscribing; then only events
    expect(recorded.lastError).toBe("health status is starting, no check has finished yet");
    events.push("healthy");
    await waiting;
    expect(target.calls.healthEvents).toBe(1);
    expect(target.calls.inspect).toBe(1);
  });

  it("resolves at once when the container was already healthy before subscribing", async () => {
    const target = healthTarget([{ Status: "healthy", FailingStreak: 0 }], new LogFeed());
    await new HealthCheckWaitStrategy().waitUntilReady(target, fakeContext().context);
    expect(target.calls.inspect).toBe(1);
  });

  it("on an `unhealthy` event, fails at once with the check's output", async () => {
    const events = new LogFeed();
    const target = healthTarget(
      [
        { Status: "starting", FailingStreak: 1 },
        { Status: "unhealthy", FailingStreak: 3, Log: [{ ExitCode: 2, Output: "no route" }] },
      ],
      events,
    );
    const waiting = new HealthCheckWaitStrategy().waitUntilReady(target, fakeContext().context);
    events.push("unhealthy");
    await expect(waiting).rejects.toThrow('the health check reports unhealthy after 3 failing checks; last check exited 2: "no route"');
  });

  it("falls back to polling when the event stream ends early", async () => {
    const events = new LogFeed();
    events.end();
    const target = healthTarget(
      [
        { Status: "starting", FailingStreak: 0 },
        { Status: "starting", FailingStreak: 0 },
        { Status: "healthy", FailingStreak: 0 },
      ],
      events,
    );
    await new HealthCheckWaitStrategy().waitUntilReady(target, fakeContext().context);
    expect(target.calls.healthEvents).toBe(1);
    expect(target.calls.inspect).toBe(3);
  });

  it("stops at once when aborted", async () => {
    const target = healthTarget([{ Status: "starting", FailingStreak: 0 }], new LogFeed());
    const { context, abort } = fakeContext();
    const waiting = new HealthCheckWaitStrategy().waitUntilReady(target, context);
    await new Promise((resolve) => setTimeout(resolve, 30));
    const reason = new Error("deadline");
    abort(reason);
    await expect(waiting).rejects.toBe(reason);
  });
});

describe("Wait.forHealthCheck where the engine does not run health checks", () => {
  /** A target whose engine leaves checks to the client; exec answers these exit codes in turn (the last repeats). */
  function clientTarget(codes: number[], check: Record<string, unknown>) {
    let n = 0;
    const target = new FakeTarget({
      exec: () => execResult(codes[Math.min(n++, codes.length - 1)]!, "", "not yet\n"),
      inspect: () => {
        const inspect = fakeInspect({ Health: { Status: "starting", FailingStreak: 0 } });
        inspect.Config.Healthcheck = check;
        return inspect;
      },
    });
    return Object.assign(target, { healthChecksRunBy: async () => "client" as const });
  }

  it("runs the check itself with exec (CMD-SHELL through /bin/sh) until it passes", async () => {
    const target = clientTarget([1, 1, 0], { Test: ["CMD-SHELL", "test -f /ready"], Interval: 1_000_000, Retries: 5 });
    const { context, recorded } = fakeContext();
    await new HealthCheckWaitStrategy().waitUntilReady(target, context);
    expect(target.calls.exec).toEqual([
      ["/bin/sh", "-c", "test -f /ready"],
      ["/bin/sh", "-c", "test -f /ready"],
      ["/bin/sh", "-c", "test -f /ready"],
    ]);
    expect(recorded.attempts).toBe(3);
  });

  it("fails as unhealthy after `retries` failures in a row, with the check's output", async () => {
    const target = clientTarget([1], { Test: ["CMD", "check"], Interval: 1_000_000, Retries: 2 });
    const error = await waitOnFake(new HealthCheckWaitStrategy(), target, 10_000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContainerNotReadyError);
    expect((error as Error).message).toMatch(
      /unhealthy after 2 failing checks; last: the health check \(run by throwaway.*\) exited 1: "not yet"/,
    );
    expect(target.calls.exec).toEqual([["check"], ["check"]]);
  });
});
