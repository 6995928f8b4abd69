import { InvalidOptionError } from "throwaway";
import { afterEach, describe, expect, it, vi } from "vitest";
import { env } from "../src/config.js";

afterEach(() => {
  vi.unstubAllEnvs();
});

/** The typed error a read throws (failing the test when it throws none or another kind). */
function errorOf(read: () => unknown): InvalidOptionError {
  try {
    read();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOptionError);
    return error as InvalidOptionError;
  }
  throw new Error("expected the read to throw");
}

describe("config: the variables once parsed where they were used", () => {
  it("THROWAWAY_MYSQL_LOCK_WAIT: whole seconds, at least 1, default 10", () => {
    expect(env.mysqlLockWaitSeconds()).toBe(10);
    vi.stubEnv("THROWAWAY_MYSQL_LOCK_WAIT", " 3 ");
    expect(env.mysqlLockWaitSeconds()).toBe(3);
    for (const bad of ["0", "1.5", "ten"]) {
      vi.stubEnv("THROWAWAY_MYSQL_LOCK_WAIT", bad);
      const error = errorOf(() => env.mysqlLockWaitSeconds());
      expect(error.message).toContain("THROWAWAY_MYSQL_LOCK_WAIT");
      expect(error.message).toContain(bad);
    }
  });

  it("THROWAWAY_VITEST_LOG_LINES: whole lines, 0 or more, else the caller's default", () => {
    expect(env.vitestLogLines(50)).toBe(50);
    vi.stubEnv("THROWAWAY_VITEST_LOG_LINES", "0");
    expect(env.vitestLogLines(50)).toBe(0);
    vi.stubEnv("THROWAWAY_VITEST_LOG_LINES", "-1");
    expect(errorOf(() => env.vitestLogLines(50)).message).toContain("THROWAWAY_VITEST_LOG_LINES");
  });

  it("THROWAWAY_SESSION_ID: a session id is joined, anything else ignored", () => {
    vi.stubEnv("THROWAWAY_SESSION_ID", " run-1.a_b ");
    expect(env.sessionId()).toBe("run-1.a_b");
    vi.stubEnv("THROWAWAY_SESSION_ID", "no spaces allowed");
    expect(env.sessionId()).toBeUndefined();
    vi.stubEnv("THROWAWAY_SESSION_ID", "x".repeat(65));
    expect(env.sessionId()).toBeUndefined();
  });

  it("THROWAWAY_HOST_OVERRIDE: trimmed, blank is unset", () => {
    vi.stubEnv("THROWAWAY_HOST_OVERRIDE", "  ");
    expect(env.hostOverride()).toBeUndefined();
    vi.stubEnv("THROWAWAY_HOST_OVERRIDE", " gateway ");
    expect(env.hostOverride()).toBe("gateway");
  });
});
