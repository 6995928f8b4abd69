import { debug } from "../debug.js";
import { ContainerExitedError, ContainerNotReadyError, describeContainer, type ErrorContext, WaitTimeoutError } from "../errors.js";
import type { WaitContext, WaitStrategy, WaitTarget } from "./strategy.js";

export interface ExitInfo {
  exitCode: number;
  oomKilled: boolean;
}

export interface RunWaitOptions {
  strategy: WaitStrategy;
  target: WaitTarget;
  /** The effective timeout in ms (the strategy's own, else the container's; already scaled). */
  timeoutMs: number;
  /** Settles when the container stops running. Rejections are ignored (the engine may drop the long poll). */
  exited: Promise<ExitInfo>;
  context: ErrorContext;
  /** The container's last log lines, for error messages. */
  tailLogs: () => Promise<string>;
  /** Appended to failures: whether the container was removed or kept. */
  afterFailure: string;
  signal?: AbortSignal;
}

class Exited {
  constructor(readonly info: ExitInfo) {}
}
class TimedOut {}

/**
 * Runs a strategy against one shared deadline and fails fast: when the container exits while waiting, the wait
 * stops at once with {@link ContainerExitedError}; when the deadline passes, {@link WaitTimeoutError} says what was
 * awaited, for how long, how many probes ran, the last probe failure, and the container's last log lines.
 */
export async function runWait(options: RunWaitOptions): Promise<void> {
  const { strategy, target, timeoutMs, context } = options;
  const started = Date.now();
  const controller = new AbortController();
  let attempts = 0;
  let lastError: string | undefined;
  const waitContext: WaitContext = {
    signal: controller.signal,
    deadline: started + timeoutMs,
    attempt: () => void attempts++,
    lastError: (reason) => void (lastError = reason),
  };
  const timer = setTimeout(() => controller.abort(new TimedOut()), timeoutMs);
  const userAbort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", userAbort, { once: true });
  let exitInfo: ExitInfo | undefined;
  if (!strategy.expectsExit) {
    options.exited.then(
      (info) => {
        exitInfo = info;
        controller.abort(new Exited(info));
      },
      () => {},
    );
  }
  debug(`container ${target.id.slice(0, 12)}`, `waiting for ${strategy.describe()} (timeout ${timeoutMs} ms)`);
  try {
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(controller.signal.reason);
      controller.signal.addEventListener("abort", onAbort, { once: true });
      strategy.waitUntilReady(target, waitContext).then(resolve, reject);
    });
    debug(`container ${target.id.slice(0, 12)}`, `ready (${strategy.describe()}) after ${Date.now() - started} ms, ${attempts} probe(s)`);
  } catch (error) {
    const elapsedMs = Date.now() - started;
    if (options.signal?.aborted && controller.signal.reason === options.signal.reason) throw options.signal.reason;
    // A strategy that failed on its own (log stream ended, probe error) often did so because the container died:
    // give the exit notification a moment to arrive so the error names the real cause.
    if (!(error instanceof Exited) && !(error instanceof TimedOut) && !strategy.expectsExit && exitInfo === undefined) {
      const info = await Promise.race([options.exited.catch(() => undefined), sleep(250).then(() => undefined)]);
      if (info) exitInfo = info;
    }
    const logs = await options.tailLogs();
    const details = `${options.afterFailure}\n\nLast log lines of the container:\n${logs || "(no output)"}`;
    if (exitInfo && !strategy.expectsExit) {
      const how = exitInfo.oomKilled ? "was killed for running out of memory (OOMKilled)" : `exited with code ${exitInfo.exitCode}`;
      throw new ContainerExitedError(
        `The ${describeContainer(context)} ${how} after ${elapsedMs} ms while waiting for ${strategy.describe()}`,
        { ...context, details, exitCode: exitInfo.exitCode, oomKilled: exitInfo.oomKilled },
      );
    }
    if (error instanceof TimedOut) {
      throw new WaitTimeoutError(
        `Waiting for ${strategy.describe()} timed out after ${elapsedMs} ms (${attempts} ${attempts === 1 ? "attempt" : "attempts"}) for ${describeContainer(context)}${lastError ? `: last error: ${lastError}` : ""}`,
        { ...context, details, strategy: strategy.describe(), timeoutMs, elapsedMs, attempts, ...(lastError ? { lastError } : {}) },
      );
    }
    const reason = error instanceof Error ? error.message : String(error);
    throw new ContainerNotReadyError(`${describeContainer(context)} can never become ready: ${strategy.describe()}: ${reason}`, {
      ...context,
      details,
      strategy: strategy.describe(),
      cause: error,
    });
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", userAbort);
    controller.abort(); // stops streams and probes the strategy left running
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
