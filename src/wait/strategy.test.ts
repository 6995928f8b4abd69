import { afterEach, describe, expect, it } from "vitest";
import { LogMessageWaitStrategy } from "./log-message.js";
import { quote, untilAborted } from "./strategy.js";

afterEach(() => {
  delete process.env.THROWAWAY_STARTUP_TIMEOUT_SCALE;
});

describe("a strategy's own startup timeout", () => {
  it("is unset by default, and scaled by THROWAWAY_STARTUP_TIMEOUT_SCALE when read", () => {
    const strategy = new LogMessageWaitStrategy("ready");
    expect(strategy.startupTimeoutMs).toBeUndefined();
    strategy.withStartupTimeout(1500);
    expect(strategy.startupTimeoutMs).toBe(1500);
    process.env.THROWAWAY_STARTUP_TIMEOUT_SCALE = "2.5";
    expect(strategy.startupTimeoutMs).toBe(3750);
  });

  it("rejects a non-positive value, naming the strategy", () => {
    expect(() => new LogMessageWaitStrategy("ready").withStartupTimeout(0)).toThrow(
      "Expected `LogMessageWaitStrategy.withStartupTimeout(ms)` to be a duration in milliseconds from 1 to 2147483647, got `0` (number): durations are whole milliseconds, e.g. 30000 for 30 s",
    );
  });
});

describe("untilAborted", () => {
  it("settles with the promise, or with the signal's reason as soon as it aborts", async () => {
    expect(await untilAborted(Promise.resolve(7), new AbortController().signal)).toBe(7);
    const controller = new AbortController();
    const never = untilAborted(new Promise(() => {}), controller.signal);
    const reason = new Error("gone");
    controller.abort(reason);
    await expect(never).rejects.toBe(reason);
    await expect(untilAborted(Promise.resolve(1), controller.signal)).rejects.toBe(reason);
  });
});

describe("quote", () => {
  it("puts text on one line, quoted and cut", () => {
    expect(quote("a\n  b\tc ")).toBe('"a b c"');
    expect(quote("x".repeat(20), 10)).toBe('"xxxxxxx..."');
  });
});
