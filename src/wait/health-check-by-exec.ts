import type { ContainerInspect } from "../engine/types.js";
import { PermanentFailure } from "./poll.js";
import { quote, type WaitContext, type WaitTarget } from "./strategy.js";

/** The engine's defaults for a HEALTHCHECK that leaves them out (Docker's and Podman's agree). */
const DEFAULT_INTERVAL_MS = 30_000;
const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_RETRIES = 3;
const NS_PER_MS = 1_000_000;

/** The command a HEALTHCHECK test runs: `CMD` as it is, `CMD-SHELL` through `/bin/sh -c` as the engine does. */
export function healthCommand(test: readonly string[]): string[] | undefined {
  if (test[0] === "CMD" && test.length > 1) return test.slice(1);
  if (test[0] === "CMD-SHELL" && test.length > 1) return ["/bin/sh", "-c", test.slice(1).join(" ")];
  return undefined;
}

/**
 * Runs the container's HEALTHCHECK ourselves, for engines that never run it (Podman without systemd): the test with
 * exec, first at once and then at the check's interval (never faster: no exec storm), each bounded by the check's
 * timeout. Healthy on the first success; unhealthy (a {@link PermanentFailure} with the last output) after `retries`
 * failures in a row once the start period is over, as the engine would judge it.
 */
export async function runHealthCheckByExec(target: WaitTarget, context: WaitContext, inspect: ContainerInspect): Promise<void> {
  const check = inspect.Config.Healthcheck;
  const command = check?.Test ? healthCommand(check.Test) : undefined;
  if (!check || !command) {
    throw new PermanentFailure(
      "the container has no health check: add one with withHealthCheck({ test }), or choose another wait strategy",
    );
  }
  const intervalMs = check.Interval ? check.Interval / NS_PER_MS : DEFAULT_INTERVAL_MS;
  const timeoutMs = check.Timeout ? check.Timeout / NS_PER_MS : DEFAULT_TIMEOUT_MS;
  const retries = check.Retries || DEFAULT_RETRIES;
  const startPeriodEnds = Date.now() + (check.StartPeriod ?? 0) / NS_PER_MS;
  let failing = 0;
  for (;;) {
    context.attempt();
    const began = Date.now();
    const signal = AbortSignal.any([context.signal, AbortSignal.timeout(timeoutMs)]);
    let failure: string;
    try {
      const result = await target.exec(command, signal);
      if (result.exitCode === 0) return;
      failure = `the health check (run by throwaway: the engine does not run it) exited ${result.exitCode}: ${quote(result.output)}`;
    } catch (error) {
      if (context.signal.aborted) throw context.signal.reason;
      failure = signal.aborted
        ? `the health check (run by throwaway) took longer than its ${timeoutMs} ms timeout`
        : `the health check could not run: ${error instanceof Error ? error.message : String(error)}`;
    }
    if (Date.now() >= startPeriodEnds) failing++;
    if (failing >= retries)
      throw new PermanentFailure(`the health check reports unhealthy after ${failing} failing checks; last: ${failure}`);
    context.lastError(failure);
    await sleep(Math.max(0, began + intervalMs - Date.now()), context.signal);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
