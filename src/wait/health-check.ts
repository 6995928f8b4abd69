import { PermanentFailure, poll } from "./poll.js";
import { BaseWaitStrategy, type WaitContext, type WaitTarget } from "./strategy.js";

/**
 * Ready when Docker reports the container `healthy` (the image's HEALTHCHECK or the one set with
 * `withHealthCheck`). `unhealthy` fails at once with the last check's output, rather than waiting out the timeout.
 */
export class HealthCheckWaitStrategy extends BaseWaitStrategy {
  describe(): string {
    return "health check healthy";
  }

  async waitUntilReady(target: WaitTarget, context: WaitContext): Promise<void> {
    await poll(
      context,
      async () => {
        const inspect = await target.inspect(context.signal);
        const health = inspect.State.Health;
        if (!health) throw new PermanentFailure("the container has no health check (add one with withHealthCheck, or choose another wait)");
        if (health.Status === "healthy") return;
        const last = health.Log?.at(-1);
        const output = last ? ` (last check exited ${last.ExitCode}: ${last.Output.trim().slice(0, 300)})` : "";
        if (health.Status === "unhealthy") throw new PermanentFailure(`the health check reports unhealthy${output}`);
        throw new Error(`health status is ${health.Status}${output}`);
      },
      // Docker runs checks at its own interval; polling faster than ~50 ms only costs engine calls.
      { minIntervalMs: 20, maxIntervalMs: 250 },
    );
  }
}
