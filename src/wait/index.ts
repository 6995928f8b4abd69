import { HealthCheckWaitStrategy } from "./health-check.js";
import { ListeningPortsWaitStrategy } from "./listening-ports.js";
import { LogMessageWaitStrategy } from "./log-message.js";

/** Factory for wait strategies: `Wait.forLogMessage(/ready/)`, `Wait.forListeningPorts(3306)`, ... */
export const Wait = {
  /** Ready when the ports (default: all exposed TCP ports) accept connections and are listened on inside. */
  forListeningPorts: (...ports: number[]) => new ListeningPortsWaitStrategy(ports),
  /** Ready when a log line matches `pattern` `times` times (default 1), counted from container start. */
  forLogMessage: (pattern: string | RegExp, times = 1) => new LogMessageWaitStrategy(pattern, times),
  /** Ready when Docker reports the container healthy; `unhealthy` fails at once. */
  forHealthCheck: () => new HealthCheckWaitStrategy(),
} as const;

export { PermanentFailure, poll } from "./poll.js";
export { BaseWaitStrategy, type WaitContext, type WaitStrategy, type WaitTarget } from "./strategy.js";
export { HealthCheckWaitStrategy, ListeningPortsWaitStrategy, LogMessageWaitStrategy };
