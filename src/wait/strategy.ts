import type { LogLine } from "../engine/demux.js";
import type { ExecResult } from "../engine/engine.js";
import type { ContainerInspect } from "../engine/types.js";

/**
 * The narrow view of a container that wait strategies use. Keeping strategies on this interface (not on the engine)
 * lets their logic be unit-tested with a fake target, and keeps their engine cost visible.
 */
export interface WaitTarget {
  /** Full container id. */
  readonly id: string;
  /** The host tests connect to. */
  readonly host: string;
  /** Container ports that have a host binding, e.g. `[{ port: 3306, protocol: "tcp" }]`. */
  boundPorts(): readonly { port: number; protocol: "tcp" | "udp" }[];
  /** The host port bound to a container port; throws when it is not bound. */
  mappedPort(port: number, protocol?: "tcp" | "udp"): number;
  /** The container's log lines since it started (including those printed before the call), following new output. */
  logLines(signal: AbortSignal): Promise<AsyncIterable<LogLine>>;
  /** Runs a command in the container (an array never goes through a shell). */
  exec(cmd: string[], signal: AbortSignal): Promise<ExecResult>;
  inspect(signal: AbortSignal): Promise<ContainerInspect>;
  /**
   * TCP ports the container's processes listen on, read without running anything in the container (from the
   * container's network namespace as the host sees it). `undefined` when that view is not available (remote engine).
   */
  listeningPorts(): Promise<ReadonlySet<number> | undefined>;
}

/** What a running wait shares with its strategy. */
export interface WaitContext {
  /** Aborted when the deadline passes or the container exits; strategies stop at once. */
  readonly signal: AbortSignal;
  /** Epoch ms when the wait gives up. */
  readonly deadline: number;
  /** Counts one probe; the count appears in timeout errors. */
  attempt(): void;
  /** Records why the last probe failed; it appears in timeout errors. */
  lastError(reason: string): void;
}

export interface WaitStrategy {
  /** One line for logs and errors, e.g. `log message /ready/ x2`, `listening ports 3306/tcp`. */
  describe(): string;
  /** Resolves when ready; rejects with a reason when it can never be (e.g. `unhealthy`). */
  waitUntilReady(target: WaitTarget, context: WaitContext): Promise<void>;
  /** This strategy's own startup timeout (ms), overriding the container's. */
  withStartupTimeout(ms: number): this;
  /** The timeout set with {@link withStartupTimeout}, if any. */
  readonly startupTimeoutMs: number | undefined;
  /** True when the container exiting is part of success (one-shot containers), so the runner must not fail on it. */
  readonly expectsExit?: boolean;
}

/** Shared plumbing for strategies: the optional own timeout. */
export abstract class BaseWaitStrategy implements WaitStrategy {
  startupTimeoutMs: number | undefined;

  abstract describe(): string;
  abstract waitUntilReady(target: WaitTarget, context: WaitContext): Promise<void>;

  withStartupTimeout(ms: number): this {
    this.startupTimeoutMs = ms;
    return this;
  }

  toString(): string {
    return this.describe();
  }
}
