import { describe, expect, it } from "vitest";
import { deferred, FakeTarget, fakeContext, fakeInspect } from "../../test/wait/fake-target.js";
import { ContainerExitedError, WaitTimeoutError } from "../errors.js";
import { LogMessageWaitStrategy } from "./log-message.js";
import { runWait } from "./run.js";
import type { ExitInfo } from "./strategy.js";

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe("Wait.forLogMessage", () => {
  it("describes itself", () => {
    expect(new LogMessageWaitStrategy("ready").describe()).toBe('log message "ready"');
    expect(new LogMessageWaitStrategy(/ready/, 2).describe()).toBe("log message /ready/ x2");
  });

  it("rejects bad patterns and counts", () => {
    expect(() => new LogMessageWaitStrategy("")).toThrow(
      'Expected `Wait.forLogMessage(pattern)` to be a non-empty string, got `""` (string)',
    );
    expect(() => new LogMessageWaitStrategy("x", 0)).toThrow(
      "Expected `Wait.forLogMessage(pattern, times)` to be a whole number of at least 1, got `0` (number)",
    );
    expect(() => new LogMessageWaitStrategy(42 as unknown as string)).toThrow(
      "Expected `Wait.forLogMessage(pattern)` to be a string or a RegExp, got `42` (number)",
    );
  });

  it("counts lines printed before the wait began, on stdout and stderr", async () => {
    const target = new FakeTarget();
    target.logs.push("ready for connections", "stderr");
    target.logs.push("ready for connections");
    const { context } = fakeContext();
    await new LogMessageWaitStrategy("ready for connections", 2).waitUntilReady(target, context);
    expect(target.calls.logLines).toBe(1);
  });

  it("waits for the n-th match and records its progress", async () => {
    const target = new FakeTarget();
    const { context, recorded } = fakeContext();
    let done = false;
    const waiting = new LogMessageWaitStrategy(/port: \d+/, 2).waitUntilReady(target, context).then(() => (done = true));
    target.logs.push("init server port: 0");
    await tick();
    target.logs.push("unrelated");
    await tick();
    expect(done).toBe(false);
    expect(recorded.lastError).toBe('matched 1 of 2 times, last line: "unrelated"');
    target.logs.push("final server port: 3306");
    await waiting;
    expect(recorded.attempts).toBe(1);
  });

  it("matches a /g regex on every line (lastIndex does not carry over)", async () => {
    const target = new FakeTarget();
    const pattern = /ready/g;
    for (let i = 0; i < 3; i++) target.logs.push("ready");
    const { context, recorded } = fakeContext({ timeoutMs: 2000 });
    await new LogMessageWaitStrategy(pattern, 3).waitUntilReady(target, context);
    // Ready at the third line, having counted the first two.
    expect(recorded.lastError).toBe('matched 2 of 3 times, last line: "ready"');
  });

  it("fails when the log stream ends before enough matches", async () => {
    const target = new FakeTarget();
    target.logs.push("ready");
    target.logs.end();
    const { context } = fakeContext();
    await expect(new LogMessageWaitStrategy("ready", 2).waitUntilReady(target, context)).rejects.toThrow(
      "the log stream ended after 1 of 2 matches (did the container stop?)",
    );
  });

  it("stops at once when aborted, even on a silent stream", async () => {
    const target = new FakeTarget();
    const { context, abort } = fakeContext();
    const waiting = new LogMessageWaitStrategy("never").waitUntilReady(target, context);
    await tick();
    const reason = new Error("deadline");
    abort(reason);
    await expect(waiting).rejects.toBe(reason);
  });

  it("times out with the match count and the last line in the error", async () => {
    const target = new FakeTarget();
    target.logs.push("booting");
    const error = (await runWait({
      strategy: new LogMessageWaitStrategy("ready"),
      target,
      timeoutMs: 100,
      exited: deferred<ExitInfo>().promise,
      context: { containerId: target.id, image: "busybox:latest" },
      tailLogs: async () => "booting",
    }).catch((e: unknown) => e)) as WaitTimeoutError;
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect(error.shortMessage).toMatch(
      /^Timed out after \d+ ms waiting for log message "ready" on container 3f2a9c1b7d10 \(busybox:latest\), which is running: 1 attempt, last error: matched 0 of 1 times, last line: "booting"$/,
    );
  });

  it("reports the exit, not the ended stream, when the container stops", async () => {
    const target = new FakeTarget({ inspect: () => fakeInspect({ Status: "exited", Running: false, ExitCode: 1 }) });
    const exit = deferred<ExitInfo>();
    const waiting = runWait({
      strategy: new LogMessageWaitStrategy("ready"),
      target,
      timeoutMs: 60_000,
      exited: exit.promise,
      context: { containerId: target.id },
      tailLogs: async () => "fatal: no config",
    });
    target.logs.push("fatal: no config");
    target.logs.end();
    await tick();
    exit.resolve({ exitCode: 1, oomKilled: false });
    const error = (await waiting.catch((e: unknown) => e)) as ContainerExitedError;
    expect(error).toBeInstanceOf(ContainerExitedError);
    expect(error.shortMessage).toMatch(/^Container 3f2a9c1b7d10 exited with code 1 after \d+ ms while waiting for log message "ready"$/);
    expect(error.message).toContain("Last 50 log lines of the container:\nfatal: no config");
  });
});
