import { env } from "../config.js";
import { normalizeDuration, scaleDuration } from "../duration.js";
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
  /**
   * The container's health status each time the engine changes it (`healthy`, `unhealthy`, `starting`), from the
   * engine's event stream (no polling). Optional: without it, health waits poll `inspect`.
   */
  healthStatusChanges?(signal: AbortSignal): Promise<AsyncIterable<string>>;
  /**
   * Who runs the container's HEALTHCHECK: `engine` (Docker), or `client` where the engine cannot be relied on to run
   * it (Podman without systemd never does), so the health wait runs the check itself. Optional: default `engine`.
   */
  healthChecksRunBy?(): Promise<"engine" | "client">;
}

/** How a container stopped. */
export interface ExitInfo {
  exitCode: number;
  /** True when the kernel killed it for exceeding its memory limit. */
  oomKilled: boolean;
}

/** What a running wait shares with its strategy. */
export interface WaitContext {
  /** Aborted when the deadline passes, the container exits, or the caller gives up; strategies stop at once. */
  readonly signal: AbortSignal;
  /** Epoch ms when the wait gives up. */
  readonly deadline: number;
  /**
   * Settles when the container stops running (one long poll shared by the whole wait, so strategies need not poll
   * for it). Rejects when the engine dropped that long poll; strategies that need the exit then inspect instead.
   */
  readonly exited: Promise<ExitInfo>;
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
  /**
   * This strategy's own startup timeout in ms, overriding the container's `withStartupTimeout` (default: the
   * container's, 60 s). Multiplied by `THROWAWAY_STARTUP_TIMEOUT_SCALE` like the container's. Inside
   * `Wait.forAll`/`Wait.forAny` it bounds that one strategy, within the composite's shared deadline.
   */
  withStartupTimeout(ms: number): this;
  /** The timeout set with {@link withStartupTimeout} in ms, already scaled by the env var; `undefined` if none. */
  readonly startupTimeoutMs: number | undefined;
  /**
   * True when the container exiting with code 0 is part of success (one-shot containers), so the runner must not
   * fail on that exit. A non-zero exit or an OOM kill still fails at once.
   */
  readonly expectsExit?: boolean;
}

/**
 * A strategy's reason to give up when the container's output (its log stream) ended: the process most likely
 * exited, and the engine's record of that exit can trail the stream's end by a while under load.
 */
export class OutputEnded extends Error {
  override name = "OutputEnded";
}

/**
 * Rejection reason of a wait whose time is up: the runner's shared deadline, or one strategy's own timeout inside a
 * composite. The runner turns it into a `WaitTimeoutError`.
 */
export class DeadlineReached extends Error {
  override name = "DeadlineReached";
  readonly timeoutMs: number;
  /** The strategy whose own timeout passed; `undefined` for the shared deadline. */
  readonly what: string | undefined;

  constructor(timeoutMs: number, what?: string) {
    super(what ? `${what}: its own timeout of ${timeoutMs} ms passed` : `the timeout of ${timeoutMs} ms passed`);
    this.timeoutMs = timeoutMs;
    this.what = what;
  }
}

/** Shared plumbing for strategies: the optional own timeout. */
export abstract class BaseWaitStrategy implements WaitStrategy {
  private ownTimeoutMs: number | undefined;

  abstract describe(): string;
  abstract waitUntilReady(target: WaitTarget, context: WaitContext): Promise<void>;

  /** {@inheritDoc WaitStrategy.withStartupTimeout} */
  withStartupTimeout(ms: number): this {
    this.ownTimeoutMs = normalizeDuration(`${this.constructor.name}.withStartupTimeout(ms)`, ms);
    return this;
  }

  // Scaled when read, not when set: the env var is read where used, so a CI setting applied late still counts.
  get startupTimeoutMs(): number | undefined {
    return this.ownTimeoutMs === undefined ? undefined : scaleDuration(this.ownTimeoutMs, env.startupTimeoutScale());
  }

  toString(): string {
    return this.describe();
  }
}

/**
 * Resolves or rejects with `promise`, but rejects with the signal's reason as soon as it is aborted: for engine
 * calls that cannot be cancelled (exec), so a strategy still stops at once.
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      promise.catch(() => {});
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/** `"text"` cut to `max` characters on one line, for probe failures quoted in errors. */
export function quote(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return JSON.stringify(flat.length > max ? `${flat.slice(0, max - 3)}...` : flat);
}
