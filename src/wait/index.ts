import { AllWaitStrategy, AnyWaitStrategy } from "./composite.js";
import { HealthCheckWaitStrategy } from "./health-check.js";
import { HttpWaitStrategy } from "./http.js";
import { ListeningPortsWaitStrategy } from "./listening-ports.js";
import { LogMessageWaitStrategy } from "./log-message.js";
import { OneShotStartupWaitStrategy } from "./one-shot.js";
import { type StartupCheck, type StartupCheckOptions, StartupCheckWaitStrategy } from "./startup-check.js";
import type { WaitStrategy } from "./strategy.js";
import { SuccessfulCommandWaitStrategy } from "./successful-command.js";

/**
 * Factory for wait strategies: how `start()` tells the service in the container is ready. Every strategy runs
 * under the container's startup timeout (60 s by default, `withStartupTimeout`, scaled by
 * `THROWAWAY_STARTUP_TIMEOUT_SCALE`) or its own `withStartupTimeout(ms)`, and fails at once when the container exits.
 */
export const Wait = {
  /**
   * Ready when the ports (default: every exposed TCP port) accept connections on their mapped host ports and are
   * listened on inside the container. The default when no strategy is set and the image has no HEALTHCHECK.
   */
  forListeningPorts: (...ports: number[]) => new ListeningPortsWaitStrategy(ports),
  /** Ready when log lines (stdout or stderr) match `pattern` `times` times (default 1), counted from container start. */
  forLogMessage: (pattern: string | RegExp, times = 1) => new LogMessageWaitStrategy(pattern, times),
  /** Ready when an HTTP request to `path` on container port `port` is answered as configured (default: any 2xx). */
  forHttp: (path: string, port: number) => new HttpWaitStrategy(path, port),
  /** Ready when Docker reports the container healthy; `unhealthy` fails at once. */
  forHealthCheck: () => new HealthCheckWaitStrategy(),
  /** Ready when `command` exits 0 in the container: a string through `/bin/sh -c`, an array as is. */
  forSuccessfulCommand: (command: string | readonly string[]) => new SuccessfulCommandWaitStrategy(command),
  /** Ready when the container has run to completion with exit code 0; any other exit fails at once. */
  forOneShotStartup: () => new OneShotStartupWaitStrategy(),
  /**
   * Ready when `check(inspect)` returns `true`, for readiness that is a status to poll ("exited with 0" with
   * `{ exits: true }`, "running for N ms"); `false` or a string is "not yet". One inspect per check.
   */
  forStartupCheck: (check: StartupCheck, options?: StartupCheckOptions) => new StartupCheckWaitStrategy(check, options),
  /** Ready when every strategy is; they run at once against one shared deadline. */
  forAll: (strategies: readonly WaitStrategy[]) => new AllWaitStrategy(strategies),
  /** Ready when any one strategy is; the others are then stopped. */
  forAny: (strategies: readonly WaitStrategy[]) => new AnyWaitStrategy(strategies),
} as const;

export { abortReason, PermanentFailure, type PollOptions, poll } from "./poll.js";
export {
  BaseWaitStrategy,
  DeadlineReached,
  type ExitInfo,
  untilAborted,
  type WaitContext,
  type WaitStrategy,
  type WaitTarget,
} from "./strategy.js";
export {
  AllWaitStrategy,
  AnyWaitStrategy,
  HealthCheckWaitStrategy,
  HttpWaitStrategy,
  ListeningPortsWaitStrategy,
  LogMessageWaitStrategy,
  OneShotStartupWaitStrategy,
  type StartupCheck,
  type StartupCheckOptions,
  StartupCheckWaitStrategy,
  SuccessfulCommandWaitStrategy,
};
