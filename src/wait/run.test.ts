import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { deferred, FAKE_ID, FakeTarget, fakeInspect, rejection } from "../../test/wait/fake-target.js";
import { ContainerExitedError, ContainerNotReadyError, EngineConnectionError, InvalidOptionError, WaitTimeoutError } from "../errors.js";
import { OneShotStartupWaitStrategy } from "./one-shot.js";
import { PermanentFailure, poll } from "./poll.js";
import { type RunWaitOptions, runWait } from "./run.js";
import { BaseWaitStrategy, type ExitInfo, OutputEnded, type WaitContext, type WaitTarget } from "./strategy.js";

const debugLines = vi.hoisted(() => [] as string[]);
vi.mock("../debug.js", async (importOriginal) => ({
  ...(await importOriginal<typeof import("../debug.js")>()),
  debug: (area: string, message: string) => void debugLines.push(`[${area}] ${message}`),
}));

/** Fails every probe with `message`, every 100 ms, until told to succeed or to give up for good. */
class ScriptedProbe extends BaseWaitStrategy {
  ready = false;
  permanent: string | undefined;
  constructor(private readonly message = "connection refused") {
    super();
  }
  describe(): string {
    return "scripted probe";
  }
  async waitUntilReady(_target: WaitTarget, context: WaitContext): Promise<void> {
    await poll(
      context,
      async () => {
        if (this.permanent) throw new PermanentFailure(this.permanent);
        if (!this.ready) throw new Error(this.message);
      },
      { minIntervalMs: 100, maxIntervalMs: 100 },
    );
  }
}

const errorContext = { containerId: FAKE_ID, containerName: "fake", image: "busybox:latest" };

function run(overrides: Partial<RunWaitOptions> & { strategy: RunWaitOptions["strategy"] }) {
  const exit = deferred<ExitInfo>();
  const promise = runWait({
    target: new FakeTarget(),
    timeoutMs: 1000,
    exited: exit.promise,
    context: errorContext,
    tailLogs: async () => "starting\nstill starting",
    ...overrides,
  });
  promise.catch(() => {});
  return { promise, exit };
}

beforeEach(() => {
  debugLines.length = 0;
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe("runWait", () => {
  it("resolves when the strategy is ready and logs the strategy's description", async () => {
    const strategy = new ScriptedProbe();
    const { promise } = run({ strategy });
    await vi.advanceTimersByTimeAsync(250);
    strategy.ready = true;
    await vi.advanceTimersByTimeAsync(100);
    await promise;
    expect(debugLines).toEqual([
      "[container 3f2a9c1b7d10] waiting for scripted probe (timeout 1000 ms)",
      "[container 3f2a9c1b7d10] ready: scripted probe after 300 ms, 4 probes",
    ]);
  });

  it("times out with the strategy, elapsed time, attempts, last error, state and logs", async () => {
    const { promise } = run({ strategy: new ScriptedProbe("connect ECONNREFUSED 127.0.0.1:32768") });
    await vi.advanceTimersByTimeAsync(1000);
    const error = await rejection(promise);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect(error.shortMessage).toBe(
      "Timed out after 1000 ms waiting for scripted probe on container 3f2a9c1b7d10 (fake, busybox:latest), which is running: " +
        "10 attempts, last error: connect ECONNREFUSED 127.0.0.1:32768",
    );
    expect(error.details).toBe(
      [
        "Waited for: scripted probe",
        "Elapsed:    1000 ms (startup timeout 1000 ms)",
        "Attempts:   10",
        "Last error: connect ECONNREFUSED 127.0.0.1:32768",
        "State:      running, pid 4242, started 2026-01-01T00:00:01Z",
        "Hint:       if the service is only slow, raise withStartupTimeout(ms) or scale all timeouts with THROWAWAY_STARTUP_TIMEOUT_SCALE",
        "",
        "Last 50 log lines of the container:",
        "starting",
        "still starting",
      ].join("\n"),
    );
    expect(error).toMatchObject({ strategy: "scripted probe", timeoutMs: 1000, elapsedMs: 1000, attempts: 10 });
    expect(error.lastError).toBe("connect ECONNREFUSED 127.0.0.1:32768");
    expect(debugLines.at(-1)).toBe("[container 3f2a9c1b7d10] gave up on scripted probe: timed out after 1000 ms, 10 probes");
  });

  it("puts the caller's note first and says when the engine could not tell the state", async () => {
    const target = new FakeTarget({ inspect: () => new Promise(() => {}) });
    const { promise } = run({
      strategy: new ScriptedProbe(),
      target,
      afterFailure: "The container was removed.",
      tailLogs: async () => "",
    });
    await vi.advanceTimersByTimeAsync(1000);
    vi.useRealTimers(); // the state's inspect gets its own 2 s timeout on the real clock
    const error = await rejection(promise);
    expect(error.shortMessage).toBe(
      "Timed out after 1000 ms waiting for scripted probe on container 3f2a9c1b7d10 (fake, busybox:latest): 10 attempts, last error: connection refused",
    );
    expect(error.details?.split("\n")).toEqual([
      "The container was removed.",
      "",
      "Waited for: scripted probe",
      "Elapsed:    1000 ms (startup timeout 1000 ms)",
      "Attempts:   10",
      "Last error: connection refused",
      "State:      unknown (the engine did not answer an inspect in time)",
      "Hint:       if the service is only slow, raise withStartupTimeout(ms) or scale all timeouts with THROWAWAY_STARTUP_TIMEOUT_SCALE",
      "",
      "Last 50 log lines of the container:",
      "(no output)",
    ]);
  });

  it("fails at once with the exit code when the container exits while waiting", async () => {
    const target = new FakeTarget({ inspect: () => fakeInspect({ Status: "exited", Running: false, Pid: 0, ExitCode: 3 }) });
    const { promise, exit } = run({ strategy: new ScriptedProbe(), target, timeoutMs: 60_000 });
    await vi.advanceTimersByTimeAsync(120);
    exit.resolve({ exitCode: 3, oomKilled: false });
    await vi.advanceTimersByTimeAsync(0);
    const error = await rejection(promise);
    expect(error).toBeInstanceOf(ContainerExitedError);
    expect(error.shortMessage).toBe(
      "Container 3f2a9c1b7d10 (fake, busybox:latest) exited with code 3 after 120 ms while waiting for scripted probe",
    );
    expect(error).toMatchObject({ exitCode: 3, oomKilled: false });
    expect(error.details?.split("\n")).toEqual([
      "Waited for: scripted probe",
      "Elapsed:    120 ms of the 60000 ms startup timeout",
      "State:      exited with code 3, started 2026-01-01T00:00:01Z",
      "",
      "Last 50 log lines of the container:",
      "starting",
      "still starting",
    ]);
  });

  it("names an OOM kill, the memory limit and the fix", async () => {
    const target = new FakeTarget({
      inspect: () => fakeInspect({ Status: "exited", Running: false, ExitCode: 137, OOMKilled: true }, { memory: 16 * 1024 * 1024 }),
    });
    const { promise, exit } = run({ strategy: new ScriptedProbe(), target });
    await vi.advanceTimersByTimeAsync(40);
    exit.resolve({ exitCode: 137, oomKilled: true });
    const error = await rejection(promise);
    expect(error).toBeInstanceOf(ContainerExitedError);
    expect(error.shortMessage).toBe(
      "Container 3f2a9c1b7d10 (fake, busybox:latest) was OOM-killed (exit code 137, memory limit 16 MiB) after 40 ms " +
        "while waiting for scripted probe: give it more memory (withResources({ memoryBytes }))",
    );
    expect(error).toMatchObject({ exitCode: 137, oomKilled: true });
  });

  it("catches an OOM flag the engine records after the exit", async () => {
    let inspections = 0;
    const target = new FakeTarget({
      inspect: () =>
        fakeInspect({ Status: "exited", Running: false, ExitCode: 137, OOMKilled: ++inspections > 1 }, { memory: 8 * 1024 * 1024 }),
    });
    const { promise, exit } = run({ strategy: new ScriptedProbe(), target });
    exit.resolve({ exitCode: 137, oomKilled: false });
    await vi.advanceTimersByTimeAsync(100);
    const error = await rejection(promise);
    expect(error).toMatchObject({ exitCode: 137, oomKilled: true });
    expect(error.shortMessage).toMatch(/was OOM-killed \(exit code 137, memory limit 8 MiB\) after 0 ms/);
    expect(inspections).toBe(2);
  });

  it("names the likely OOM kill when the engine never flags it but a memory limit was set", async () => {
    const target = new FakeTarget({
      inspect: () => fakeInspect({ Status: "exited", Running: false, ExitCode: 137 }, { memory: 16 * 1024 * 1024 }),
    });
    const { promise, exit } = run({ strategy: new ScriptedProbe(), target });
    exit.resolve({ exitCode: 137, oomKilled: false });
    await vi.advanceTimersByTimeAsync(200);
    const error = await rejection(promise);
    expect(error).toMatchObject({ exitCode: 137, oomKilled: false });
    expect(error.shortMessage).toBe(
      "Container 3f2a9c1b7d10 (fake, busybox:latest) exited with code 137 after 0 ms while waiting for scripted probe: " +
        "SIGKILL, most likely the OOM killer (the engine did not flag it) under the 16 MiB memory limit; give it more memory (withResources({ memoryBytes }))",
    );
    expect(target.calls.inspect).toBe(3);
  });

  it("suggests the one-shot wait when a container exits 0 under another strategy", async () => {
    const { promise, exit } = run({ strategy: new ScriptedProbe() });
    exit.resolve({ exitCode: 0, oomKilled: false });
    const error = await rejection(promise);
    expect(error.shortMessage).toBe(
      "Container 3f2a9c1b7d10 (fake, busybox:latest) exited with code 0 after 0 ms while waiting for scripted probe: " +
        "it ran to completion; for a container meant to exit, use Wait.forOneShotStartup()",
    );
  });

  it("names the exit, not the symptom, when a strategy fails because the container died", async () => {
    const strategy = new ScriptedProbe();
    const { promise, exit } = run({ strategy });
    strategy.permanent = "the log stream ended";
    await vi.advanceTimersByTimeAsync(100);
    exit.resolve({ exitCode: 2, oomKilled: false }); // the exit notice arrives a little after the stream's end
    await vi.advanceTimersByTimeAsync(250);
    const error = await rejection(promise);
    expect(error).toBeInstanceOf(ContainerExitedError);
    expect(error.shortMessage).toMatch(/exited with code 2 after 100 ms while waiting for scripted probe$/);
    expect((error.cause as Error).message).toBe("the log stream ended");
  });

  it("names the exit when the exit notice is late but the container's state already shows it", async () => {
    // Under load the exit long poll can answer long after the log stream ended; the state read for the error has it.
    const strategy = new ScriptedProbe();
    const target = new FakeTarget({
      inspect: () => fakeInspect({ Status: "exited", Running: false, ExitCode: 3, FinishedAt: "2026-01-01T00:00:02Z" }),
    });
    const { promise } = run({ strategy, target });
    strategy.permanent = "the log stream ended";
    await vi.advanceTimersByTimeAsync(100 + 250); // the next probe gives up; the grace period passes without the notice
    const error = await rejection(promise);
    expect(error).toBeInstanceOf(ContainerExitedError);
    expect(error.shortMessage).toMatch(/exited with code 3 after 100 ms while waiting for scripted probe$/);
  });

  it("names the exit when the log stream ended long before the engine recorded the exit", async () => {
    // Under load the process closes its output well before the engine's state says exited: the state read for the
    // error still says running, and the exit notice comes after the short grace period.
    class EndedStream extends BaseWaitStrategy {
      describe(): string {
        return "log line";
      }
      async waitUntilReady(): Promise<void> {
        throw new OutputEnded("the log stream ended after 0 of 1 matches");
      }
    }
    const { promise, exit } = run({ strategy: new EndedStream() });
    await vi.advanceTimersByTimeAsync(1200); // past the grace period, with the state still running
    exit.resolve({ exitCode: 3, oomKilled: false });
    await vi.advanceTimersByTimeAsync(0);
    const error = await rejection(promise);
    expect(error).toBeInstanceOf(ContainerExitedError);
    expect(error.shortMessage).toMatch(/exited with code 3 after 0 ms while waiting for log line$/);
  });

  it("fails with ContainerNotReadyError when the strategy says it can never be ready", async () => {
    const strategy = new ScriptedProbe();
    strategy.permanent = "the health check reports unhealthy";
    const { promise } = run({ strategy });
    await vi.advanceTimersByTimeAsync(250); // the grace period for an exit notice that never comes
    const error = await rejection(promise);
    expect(error).toBeInstanceOf(ContainerNotReadyError);
    expect(error.shortMessage).toBe(
      "Container 3f2a9c1b7d10 (fake, busybox:latest) can never become ready for scripted probe: the health check reports unhealthy",
    );
    expect(error.details?.split("\n").slice(0, 4)).toEqual([
      "Waited for: scripted probe",
      "Elapsed:    0 ms of the 1000 ms startup timeout",
      "Attempts:   1",
      "State:      running, pid 4242, started 2026-01-01T00:00:01Z",
    ]);
    expect(error.strategy).toBe("scripted probe");
  });

  it("passes bad options through untouched", async () => {
    const bad = new InvalidOptionError("Wait.forHttp(path, 9090)", "an exposed TCP port", 9090);
    const strategy = new (class extends ScriptedProbe {
      override async waitUntilReady(): Promise<void> {
        throw bad;
      }
    })();
    const { promise } = run({ strategy });
    expect(await rejection(promise)).toBe(bad);
  });

  it("stops at once with the caller's reason when the caller aborts", async () => {
    const controller = new AbortController();
    const { promise } = run({ strategy: new ScriptedProbe(), signal: controller.signal });
    await vi.advanceTimersByTimeAsync(150);
    const reason = new Error("test cancelled");
    controller.abort(reason);
    expect(await rejection(promise)).toBe(reason);
  });

  it("lets a one-shot container exit 0, and fails a non-zero exit at once", async () => {
    const ok = run({ strategy: new OneShotStartupWaitStrategy() });
    await vi.advanceTimersByTimeAsync(500);
    ok.exit.resolve({ exitCode: 0, oomKilled: false });
    await ok.promise;

    const target = new FakeTarget({ inspect: () => fakeInspect({ Status: "exited", Running: false, ExitCode: 4 }) });
    const failing = run({ strategy: new OneShotStartupWaitStrategy(), target, tailLogs: async () => "migration 7 failed: duplicate key" });
    await vi.advanceTimersByTimeAsync(300);
    failing.exit.resolve({ exitCode: 4, oomKilled: false });
    const error = await rejection(failing.promise);
    expect(error).toBeInstanceOf(ContainerExitedError);
    expect(error.shortMessage).toBe(
      "Container 3f2a9c1b7d10 (fake, busybox:latest) exited with code 4 after 300 ms while waiting for one-shot run to exit code 0",
    );
    expect(error.message).toContain("\nmigration 7 failed: duplicate key");
  });
});

describe("runWait when the engine goes away", () => {
  const socketError = (code: string) => Object.assign(new Error(`connect ${code} /run/docker.sock`), { code });
  const engine = (probe: () => Promise<void>) => ({ endpoint: "unix:///run/docker.sock", probe });

  it("stops at once when the exit long poll's connection breaks, whatever the strategy was doing", async () => {
    const { promise, exit } = run({ strategy: new ScriptedProbe(), engine: engine(async () => {}) });
    await vi.advanceTimersByTimeAsync(200);
    exit.reject(socketError("ECONNRESET"));
    const error = await rejection(promise);
    expect(error).toBeInstanceOf(EngineConnectionError);
    const lost = error as unknown as EngineConnectionError;
    expect(lost.endpoint).toBe("unix:///run/docker.sock");
    expect(lost.reason).toBe("ECONNRESET");
    expect(lost.shortMessage).toBe(
      "The engine at unix:///run/docker.sock went away (ECONNRESET) during the wait for scripted probe on container 3f2a9c1b7d10 (fake, busybox:latest), after 200 ms",
    );
  });

  it("names the engine, not the container, when a container exits and the engine refuses new connections", async () => {
    const { promise, exit } = run({ strategy: new ScriptedProbe(), engine: engine(() => Promise.reject(socketError("ENOENT"))) });
    await vi.advanceTimersByTimeAsync(200);
    exit.resolve({ exitCode: 0, oomKilled: false });
    const error = await rejection(promise);
    expect(error).toBeInstanceOf(EngineConnectionError);
    expect((error as unknown as EngineConnectionError).reason).toBe("ENOENT");
  });

  it("leaves failures as they were when the engine answers, even with an error", async () => {
    const answering = run({ strategy: new ScriptedProbe(), engine: engine(async () => {}) });
    await vi.advanceTimersByTimeAsync(200);
    answering.exit.resolve({ exitCode: 3, oomKilled: false });
    expect(await rejection(answering.promise)).toBeInstanceOf(ContainerExitedError);

    // An engine that answers with an HTTP status is there, whatever else the error carries.
    const answered = Object.assign(new Error("(HTTP code 500) server error"), { statusCode: 500, code: "ECONNRESET" });
    const erring = run({ strategy: new ScriptedProbe(), engine: engine(() => Promise.reject(answered)) });
    await vi.advanceTimersByTimeAsync(1000);
    expect(await rejection(erring.promise)).toBeInstanceOf(WaitTimeoutError);
  });
});
