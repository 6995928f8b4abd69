import { debug } from "../debug.js";
import type { ContainerInspect } from "../engine/types.js";
import { runHealthCheckByExec } from "./health-check-by-exec.js";
import { PermanentFailure, poll } from "./poll.js";
import { BaseWaitStrategy, quote, untilAborted, type WaitContext, type WaitTarget } from "./strategy.js";

/**
 * Ready when Docker reports the container `healthy` (the image's HEALTHCHECK or the one set with
 * `withHealthCheck`). `unhealthy` fails at once with the last check's output, rather than waiting out the timeout.
 *
 * On an engine that does not run health checks itself (Podman without systemd; see `EngineTraits.healthChecks`) it
 * runs the check with exec at the check's interval instead, judging it as the engine would.
 *
 * It follows the engine's `health_status` events (one long-lived call; the change is seen as soon as the engine
 * makes it) after one `inspect` for a status reached before it subscribed. Without events (a target that lacks
 * them, or a dropped stream) it polls `inspect` from 20 ms up to 100 ms instead.
 */
export class HealthCheckWaitStrategy extends BaseWaitStrategy {
  describe(): string {
    return "health check healthy";
  }

  async waitUntilReady(target: WaitTarget, context: WaitContext): Promise<void> {
    if ((await untilAborted(target.healthChecksRunBy?.() ?? Promise.resolve("engine"), context.signal)) === "client") {
      debug(`container ${target.id.slice(0, 12)}`, "the engine does not run health checks: running the check with exec");
      const inspect = await untilAborted(target.inspect(context.signal), context.signal);
      return runHealthCheckByExec(target, context, inspect);
    }
    if (target.healthStatusChanges) {
      // Subscribe before the first look, so a change between the two is not missed.
      const changes = await untilAborted(target.healthStatusChanges(context.signal), context.signal).catch((error: unknown) => {
        if (context.signal.aborted) throw error;
        return undefined;
      });
      if (changes) {
        context.attempt();
        const first = this.check(await untilAborted(target.inspect(context.signal), context.signal));
        if (first === true) return;
        context.lastError(first);
        try {
          for await (const status of changes) {
            if (context.signal.aborted) break;
            context.attempt();
            if (status === "healthy") return;
            // The event has no check output: one inspect gets it for the error.
            if (status === "unhealthy") this.check(await untilAborted(target.inspect(context.signal), context.signal));
            else context.lastError(`health status is ${status}`);
          }
        } catch (error) {
          if (context.signal.aborted || error instanceof PermanentFailure) throw error;
        }
        if (context.signal.aborted) throw context.signal.reason;
        // The engine ended the event stream early: carry on by polling.
      }
    }
    await poll(
      context,
      async () => {
        const result = this.check(await untilAborted(target.inspect(context.signal), context.signal));
        if (result !== true) throw new Error(result);
      },
      { minIntervalMs: 20, maxIntervalMs: 100 },
    );
  }

  /** `true` when healthy; why not yet otherwise; throws {@link PermanentFailure} when it never will be. */
  private check(inspect: ContainerInspect): true | string {
    const health = inspect.State.Health;
    const test = inspect.Config.Healthcheck?.Test;
    if (!health || health.Status === "none" || test?.[0] === "NONE") {
      throw new PermanentFailure(
        "the container has no health check: add one with withHealthCheck({ test }), or choose another wait strategy",
      );
    }
    if (health.Status === "healthy") return true;
    const last = health.Log?.at(-1);
    const output = last ? `; last check exited ${last.ExitCode}: ${quote(last.Output)}` : "";
    if (health.Status === "unhealthy") {
      throw new PermanentFailure(`the health check reports unhealthy after ${health.FailingStreak} failing checks${output}`);
    }
    return `health status is ${health.Status}${last ? "" : ", no check has finished yet"}${output}`;
  }
}
