import { InvalidOptionError } from "../errors.js";

/** How long `stop()` and `restart()` let the container shut down gracefully. */
export interface GracePeriod {
  /**
   * Milliseconds between SIGTERM and SIGKILL. Default 0: throwaway containers are killed at once, since nothing in
   * them needs to survive. The engine counts whole seconds, so this is rounded up.
   */
  timeoutMs?: number;
  /** @deprecated Seconds, unlike every other duration here: use `timeoutMs`. Accepted until the next minor version. */
  timeout?: number;
}

let warned = false;

/**
 * The engine's `t` (whole seconds) for a grace period. The old seconds key still works, with one deprecation warning
 * per process: a testcontainers habit (`timeout: 10_000`, meant as ms) would otherwise wait 2.8 hours.
 */
export function graceSeconds(options: GracePeriod, method: "stop" | "restart"): number {
  const { timeoutMs, timeout } = options;
  if (timeoutMs !== undefined && timeout !== undefined) {
    throw new InvalidOptionError(`${method}({ timeout })`, "unset when `timeoutMs` is given", timeout, {
      hint: "`timeout` is the deprecated seconds key; keep `timeoutMs` only",
    });
  }
  if (timeout !== undefined) {
    if (typeof timeout !== "number" || !Number.isFinite(timeout) || timeout < 0) {
      throw new InvalidOptionError(`${method}({ timeout })`, "a non-negative number of seconds", timeout, { hint: "use `timeoutMs`" });
    }
    if (!warned) {
      warned = true;
      process.emitWarning(
        `${method}({ timeout }) is in seconds and deprecated; use ${method}({ timeoutMs: ${timeout * 1000} }). It goes in the next minor version.`,
        { type: "DeprecationWarning", code: "THROWAWAY_STOP_TIMEOUT_SECONDS" },
      );
    }
    return Math.ceil(timeout);
  }
  if (timeoutMs === undefined) return 0;
  if (typeof timeoutMs !== "number" || !Number.isFinite(timeoutMs) || timeoutMs < 0) {
    throw new InvalidOptionError(`${method}({ timeoutMs })`, "a non-negative number of milliseconds", timeoutMs);
  }
  return Math.ceil(timeoutMs / 1000);
}
