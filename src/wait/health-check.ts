import { PermanentFailure, poll } from "./poll.js";
import { BaseWaitStrategy, quote, untilAborted, type WaitContext, type WaitTarget } from "./strategy.js";

/**
 * Ready when Docker reports the container `healthy` (the image's HEALTHCHECK or the one set with
 * `withHealthCheck`). `unhealthy` fails at once with the last check's output, rather than waiting out the timeout.
 *
 * Docker runs the checks at the interval the check sets; polling `inspect` from 20 ms up to 100 ms sees a new status
 * within a tenth of a second, for at most ten cheap engine calls a second (an inspect costs the container nothing).
 */
export class HealthCheckWaitStrategy extends BaseWaitStrategy {
  describe(): string {
    return "health check healthy";
  }

  async waitUntilReady(target: WaitTarget, context: WaitContext): Promise<void> {
    await poll(
      context,
      async () => {
        const inspect = await untilAborted(target.inspect(context.signal), context.signal);
        const health = inspect.State.Health;
        const test = inspect.Config.Healthcheck?.Test;
        if (!health || health.Status === "none" || test?.[0] === "NONE") {
          throw new PermanentFailure(
            "the container has no health check: add one with withHealthCheck({ test }), or choose another wait strategy",
          );
        }
        if (health.Status === "healthy") return;
        const last = health.Log?.at(-1);
        const output = last ? `; last check exited ${last.ExitCode}: ${quote(last.Output)}` : "";
        if (health.Status === "unhealthy") {
          throw new PermanentFailure(`the health check reports unhealthy after ${health.FailingStreak} failing checks${output}`);
        }
        throw new Error(`health status is ${health.Status}${last ? "" : ", no check has finished yet"}${output}`);
      },
      { minIntervalMs: 20, maxIntervalMs: 100 },
    );
  }
}
