import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { deferred, FakeTarget, fakeContext, rejection } from "../../test/wait/fake-target.js";
import { ContainerNotReadyError, InvalidOptionError, WaitTimeoutError } from "../errors.js";
import { AllWaitStrategy, AnyWaitStrategy } from "./composite.js";
import { PermanentFailure, poll } from "./poll.js";
import { runWait } from "./run.js";
import { BaseWaitStrategy, type ExitInfo, type WaitContext, type WaitTarget } from "./strategy.js";

/** Probes every 100 ms; ready after `readyAfterMs`, or fails for good with `failWith`; records the signal it saw. */
class Step extends BaseWaitStrategy {
  signal: AbortSignal | undefined;
  deadline: number | undefined;
  constructor(
    private readonly name: string,
    private readonly readyAfterMs = Number.POSITIVE_INFINITY,
    private readonly failWith?: string,
  ) {
    super();
  }
  describe(): string {
    return this.name;
  }
  async waitUntilReady(_target: WaitTarget, context: WaitContext): Promise<void> {
    this.signal = context.signal;
    this.deadline = context.deadline;
    const start = Date.now();
    await poll(
      context,
      async () => {
        if (this.failWith) throw new PermanentFailure(this.failWith);
        if (Date.now() - start < this.readyAfterMs) throw new Error(`${this.name} not yet`);
      },
      { minIntervalMs: 100, maxIntervalMs: 100 },
    );
  }
}

const context = { containerId: new FakeTarget().id };

function run(strategy: BaseWaitStrategy, timeoutMs = 1000) {
  const promise = runWait({
    strategy,
    target: new FakeTarget(),
    timeoutMs,
    exited: deferred<ExitInfo>().promise,
    context,
    tailLogs: async () => "",
  });
  promise.catch(() => {});
  return promise;
}

beforeEach(() => void vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] }));
afterEach(() => void vi.useRealTimers());

describe("Wait.forAll", () => {
  it("describes itself and validates its input", () => {
    expect(new AllWaitStrategy([new Step("a"), new Step("b")]).describe()).toBe("all of: [a, b]");
    expect(() => new AllWaitStrategy([])).toThrow(
      "Expected `Wait.forAll(strategies)` to be a non-empty array of wait strategies, got `[]` (array)",
    );
    expect(() => new AllWaitStrategy([{} as BaseWaitStrategy])).toThrow(
      "Expected `Wait.forAll(strategies)` to be wait strategies only (from `Wait.*`), got `{}` (Object)",
    );
  });

  it("runs the strategies concurrently and resolves when the slowest is ready", async () => {
    const waiting = run(new AllWaitStrategy([new Step("a", 300), new Step("b", 500)]));
    let done = false;
    waiting.then(() => (done = true));
    await vi.advanceTimersByTimeAsync(400);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(100);
    expect(done).toBe(true); // concurrently: 500 ms in all, not 800
  });

  it("shares one deadline and names what was still waiting when it passed", async () => {
    const a = new Step("a", 200);
    const b = new Step("b");
    const waiting = run(new AllWaitStrategy([a, b]), 1000);
    await vi.advanceTimersByTimeAsync(1000);
    const error = await rejection(waiting);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect(error.shortMessage).toBe(
      "Timed out after 1000 ms waiting for all of: [a, b] on container 3f2a9c1b7d10, which is running: 13 attempts, last error: [b] b not yet",
    );
    expect(a.deadline).toBe(b.deadline);
    expect(b.signal?.aborted).toBe(true);
  });

  it("bounds a child by its own timeout within the shared deadline", async () => {
    const slow = new Step("slow").withStartupTimeout(300);
    const waiting = run(new AllWaitStrategy([slow, new Step("other")]), 1000);
    await vi.advanceTimersByTimeAsync(300);
    const error = await rejection(waiting);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect(error.elapsedMs).toBe(300);
    expect((error.cause as Error).message).toBe("slow: its own timeout of 300 ms passed");
    expect(error.lastError).toBe("[slow] failed: slow: its own timeout of 300 ms passed; [other] other not yet");
  });

  it("fails as soon as one strategy can never be ready, stopping the others", async () => {
    const other = new Step("other");
    const waiting = run(new AllWaitStrategy([new Step("health check healthy", 0, "the health check reports unhealthy"), other]));
    await vi.advanceTimersByTimeAsync(250);
    const error = await rejection(waiting);
    expect(error).toBeInstanceOf(ContainerNotReadyError);
    expect(error.shortMessage).toBe(
      "Container 3f2a9c1b7d10 can never become ready for all of: [health check healthy, other]: health check healthy: the health check reports unhealthy",
    );
    expect(other.signal?.aborted).toBe(true);
  });

  it("expects an exit when one of its strategies does", () => {
    const oneShot = Object.assign(new Step("one-shot"), { expectsExit: true });
    expect(new AllWaitStrategy([new Step("a")]).expectsExit).toBe(false);
    expect(new AllWaitStrategy([new Step("a"), oneShot]).expectsExit).toBe(true);
  });

  it("passes bad options through at once", async () => {
    const bad = new InvalidOptionError("Wait.forHttp(path, 9090)", "an exposed TCP port", 9090);
    const broken = new (class extends Step {
      override async waitUntilReady(): Promise<void> {
        throw bad;
      }
    })("broken");
    expect(await rejection(run(new AllWaitStrategy([broken, new Step("b")])))).toBe(bad);
  });
});

describe("Wait.forAny", () => {
  it("resolves with the first ready strategy and stops the others", async () => {
    const fast = new Step("fast", 200);
    const slow = new Step("slow");
    const waiting = run(new AnyWaitStrategy([slow, fast]));
    await vi.advanceTimersByTimeAsync(200);
    await waiting;
    expect(slow.signal?.aborted).toBe(true);
  });

  it("keeps waiting when one fails, and fails only when all have", async () => {
    const waiting = run(new AnyWaitStrategy([new Step("a", 0, "broken"), new Step("b", 300)]));
    await vi.advanceTimersByTimeAsync(300);
    await waiting;

    const failing = run(new AnyWaitStrategy([new Step("a", 0, "no shell"), new Step("b", 0, "unhealthy")]));
    await vi.advanceTimersByTimeAsync(250);
    const error = await rejection(failing);
    expect(error).toBeInstanceOf(ContainerNotReadyError);
    expect(error.shortMessage).toBe(
      "Container 3f2a9c1b7d10 can never become ready for any of: [a, b]: none can succeed: [a] no shell; [b] unhealthy",
    );
  });

  it("times out against the shared deadline naming every strategy", async () => {
    const waiting = run(new AnyWaitStrategy([new Step("a"), new Step("b")]), 500);
    await vi.advanceTimersByTimeAsync(500);
    const error = await rejection(waiting);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect(error.lastError).toBe("[a] a not yet; [b] b not yet");
  });

  it("stops every child at once when the caller aborts", async () => {
    const a = new Step("a");
    const b = new Step("b");
    const { context: ctx, abort } = fakeContext();
    const waiting = new AnyWaitStrategy([a, b]).waitUntilReady(new FakeTarget(), ctx);
    await vi.advanceTimersByTimeAsync(150);
    const reason = new Error("deadline");
    abort(reason);
    await expect(waiting).rejects.toBe(reason);
    expect(a.signal?.aborted && b.signal?.aborted).toBe(true);
  });
});
