import { PermanentFailure, poll } from "./poll.js";
import { BaseWaitStrategy, type ExitInfo, untilAborted, type WaitContext, type WaitTarget } from "./strategy.js";

/**
 * Ready when the container has run to completion with exit code 0: for containers that do one job (a migration, a
 * seed, a build step) and stop. It rides on the wait's single exit long poll (no polling); a non-zero exit or an
 * OOM kill fails at once with the exit code and the container's last log lines.
 */
export class OneShotStartupWaitStrategy extends BaseWaitStrategy {
  readonly expectsExit = true;

  describe(): string {
    return "one-shot run to exit code 0";
  }

  async waitUntilReady(target: WaitTarget, context: WaitContext): Promise<void> {
    context.attempt();
    context.lastError("the container is still running");
    const info = await untilAborted(
      context.exited.catch(() => exitByInspect(target, context)),
      context.signal,
    );
    if (info.oomKilled) throw new PermanentFailure(`the container was OOM-killed (exit code ${info.exitCode})`);
    if (info.exitCode !== 0) throw new PermanentFailure(`the container exited with code ${info.exitCode}`);
  }
}

/** The fallback when the engine dropped the exit long poll: inspect until the container is no longer running. */
function exitByInspect(target: WaitTarget, context: WaitContext): Promise<ExitInfo> {
  return poll(
    context,
    async () => {
      const { State } = await untilAborted(target.inspect(context.signal), context.signal);
      if (State.Running || State.Restarting || State.Status === "created") throw new Error(`the container is still ${State.Status}`);
      return { exitCode: State.ExitCode, oomKilled: State.OOMKilled };
    },
    { minIntervalMs: 50, maxIntervalMs: 500 },
  );
}
