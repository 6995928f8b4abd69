import { describe, expect, it } from "vitest";
import { deferred, FakeTarget, fakeContext, fakeInspect } from "../../test/wait/fake-target.js";
import { OneShotStartupWaitStrategy } from "./one-shot.js";
import type { ExitInfo } from "./strategy.js";

describe("Wait.forOneShotStartup", () => {
  it("describes itself and expects the exit", () => {
    const strategy = new OneShotStartupWaitStrategy();
    expect(strategy.describe()).toBe("one-shot run to exit code 0");
    expect(strategy.expectsExit).toBe(true);
  });

  it("resolves on exit code 0 from the shared exit watch, without engine calls", async () => {
    const exit = deferred<ExitInfo>();
    const target = new FakeTarget();
    const { context } = fakeContext({ exited: exit.promise });
    const waiting = new OneShotStartupWaitStrategy().waitUntilReady(target, context);
    exit.resolve({ exitCode: 0, oomKilled: false });
    await waiting;
    expect(target.calls).toEqual({ exec: [], inspect: 0, logLines: 0, listeningPorts: 0, healthEvents: 0 });
  });

  it("rejects a non-zero exit and an OOM kill", async () => {
    const failed = deferred<ExitInfo>();
    failed.resolve({ exitCode: 3, oomKilled: false });
    await expect(
      new OneShotStartupWaitStrategy().waitUntilReady(new FakeTarget(), fakeContext({ exited: failed.promise }).context),
    ).rejects.toThrow("the container exited with code 3");
    const oom = deferred<ExitInfo>();
    oom.resolve({ exitCode: 137, oomKilled: true });
    await expect(
      new OneShotStartupWaitStrategy().waitUntilReady(new FakeTarget(), fakeContext({ exited: oom.promise }).context),
    ).rejects.toThrow("the container was OOM-killed (exit code 137)");
  });

  it("inspects until the exit when the engine dropped the exit long poll", async () => {
    const dropped = deferred<ExitInfo>();
    dropped.reject(new Error("socket hang up"));
    let n = 0;
    const target = new FakeTarget({
      inspect: () => (++n < 3 ? fakeInspect() : fakeInspect({ Status: "exited", Running: false, ExitCode: 0 })),
    });
    await new OneShotStartupWaitStrategy().waitUntilReady(target, fakeContext({ exited: dropped.promise }).context);
    expect(target.calls.inspect).toBe(3);
  });
});
