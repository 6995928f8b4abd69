/**
 * A fake container for unit tests of wait strategies' logic: every part of the `WaitTarget` is scripted by the test,
 * and every call is recorded. Tests of behaviour against a real container use the real engine instead.
 */
import type { LogLine } from "../../src/engine/demux.js";
import type { ExecResult } from "../../src/engine/engine.js";
import type { ContainerInspect, ContainerState } from "../../src/engine/types.js";
import { runWait } from "../../src/wait/run.js";
import type { ExitInfo, WaitContext, WaitStrategy, WaitTarget } from "../../src/wait/strategy.js";

export const FAKE_ID = "3f2a9c1b7d10aa55aa55aa55aa55aa55aa55aa55aa55aa55aa55aa55aa55aa55";

/** Log lines the test pushes; iterating follows them until `end()` or the reader's signal aborts. */
export class LogFeed {
  private readonly lines: LogLine[] = [];
  private ended = false;
  private wake: (() => void) | undefined;

  push(line: string, stream: LogLine["stream"] = "stdout"): void {
    this.lines.push({ stream, line });
    this.wake?.();
  }

  end(): void {
    this.ended = true;
    this.wake?.();
  }

  /** A reader from the first line (as `docker logs --follow` from container start). */
  async *read(signal: AbortSignal): AsyncGenerator<LogLine> {
    let index = 0;
    for (;;) {
      if (signal.aborted) return;
      if (index < this.lines.length) {
        yield this.lines[index++]!;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        signal.addEventListener("abort", () => resolve(), { once: true });
      });
    }
  }
}

export function fakeInspect(state: Partial<ContainerState> = {}, extra: { memory?: number; healthTest?: string[] } = {}): ContainerInspect {
  return {
    Id: FAKE_ID,
    Name: "/fake",
    Created: "2026-01-01T00:00:00Z",
    Path: "sh",
    Args: [],
    State: {
      Status: "running",
      Running: true,
      Paused: false,
      Restarting: false,
      OOMKilled: false,
      Dead: false,
      Pid: 4242,
      ExitCode: 0,
      Error: "",
      StartedAt: "2026-01-01T00:00:01Z",
      FinishedAt: "0001-01-01T00:00:00Z",
      ...state,
    },
    Image: "sha256:fake",
    Config: {
      Image: "busybox:latest",
      Env: null,
      Labels: null,
      Tty: false,
      Cmd: null,
      Entrypoint: null,
      WorkingDir: "",
      User: "",
      ...(extra.healthTest ? { Healthcheck: { Test: extra.healthTest } } : {}),
    },
    HostConfig: { NetworkMode: "bridge", ...(extra.memory ? { Memory: extra.memory } : {}) },
  } as unknown as ContainerInspect;
}

export interface FakeTargetOptions {
  /** Container port → host port, all TCP. */
  ports?: Record<number, number>;
  exec?: (cmd: string[], signal: AbortSignal) => Promise<ExecResult> | ExecResult;
  inspect?: () => Promise<ContainerInspect> | ContainerInspect;
  /** The host-side view of listening ports; `undefined` as for a remote engine. Default: undefined. */
  listeningPorts?: () => Promise<ReadonlySet<number> | undefined> | ReadonlySet<number> | undefined;
  /** Health status events; when given, the target offers `healthStatusChanges` fed from it. */
  healthEvents?: LogFeed;
}

export class FakeTarget implements WaitTarget {
  readonly id = FAKE_ID;
  readonly host = "127.0.0.1";
  readonly logs = new LogFeed();
  readonly calls = { exec: [] as string[][], inspect: 0, logLines: 0, listeningPorts: 0, healthEvents: 0 };
  private readonly options: FakeTargetOptions;

  constructor(options: FakeTargetOptions = {}) {
    this.options = options;
  }

  boundPorts() {
    return Object.keys(this.options.ports ?? {}).map((port) => ({ port: Number(port), protocol: "tcp" as const }));
  }

  mappedPort(port: number): number {
    const mapped = this.options.ports?.[port];
    if (mapped === undefined) throw new Error(`port ${port} is not bound`);
    return mapped;
  }

  async logLines(signal: AbortSignal): Promise<AsyncIterable<LogLine>> {
    this.calls.logLines++;
    return this.logs.read(signal);
  }

  async exec(cmd: string[], signal: AbortSignal): Promise<ExecResult> {
    this.calls.exec.push(cmd);
    if (!this.options.exec) throw new Error("exec is not scripted in this test");
    return this.options.exec(cmd, signal);
  }

  async inspect(): Promise<ContainerInspect> {
    this.calls.inspect++;
    return this.options.inspect ? this.options.inspect() : fakeInspect();
  }

  get healthStatusChanges(): ((signal: AbortSignal) => Promise<AsyncIterable<string>>) | undefined {
    const feed = this.options.healthEvents;
    if (!feed) return undefined;
    return async (signal) => {
      this.calls.healthEvents++;
      return (async function* () {
        for await (const { line } of feed.read(signal)) yield line;
      })();
    };
  }

  async listeningPorts(): Promise<ReadonlySet<number> | undefined> {
    this.calls.listeningPorts++;
    return this.options.listeningPorts?.();
  }
}

export function execResult(exitCode: number, stdout = "", stderr = ""): ExecResult {
  return { exitCode, stdout, stderr, output: stdout + stderr };
}

/** A promise with its resolve/reject exposed. */
export function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {});
  return { promise, resolve, reject };
}

/**
 * A context for calling a strategy directly (without the runner): the test aborts it and reads what was recorded.
 * Its deadline (`timeoutMs`, 10 s unless told) aborts it too, so a strategy that never becomes ready fails the test
 * with that said, not with vitest's timeout.
 */
export function fakeContext(options: { timeoutMs?: number; exited?: Promise<ExitInfo> } = {}) {
  const controller = new AbortController();
  const recorded = { attempts: 0, lastError: undefined as string | undefined };
  const exited = options.exited ?? new Promise<ExitInfo>(() => {});
  const timeoutMs = options.timeoutMs ?? 10_000;
  const timer = setTimeout(() => {
    const last = recorded.lastError === undefined ? "" : ` (last error: ${recorded.lastError})`;
    controller.abort(new Error(`The fake wait context's deadline of ${timeoutMs} ms passed before the strategy was ready${last}`));
  }, timeoutMs);
  timer.unref();
  controller.signal.addEventListener("abort", () => clearTimeout(timer), { once: true });
  const context: WaitContext = {
    signal: controller.signal,
    deadline: Date.now() + timeoutMs,
    exited,
    attempt: () => void recorded.attempts++,
    lastError: (reason) => void (recorded.lastError = reason),
  };
  return { context, recorded, abort: (reason?: unknown) => controller.abort(reason) };
}

/** /proc/net/tcp text with these ports in LISTEN state (and one established connection, which must not count). */
export function procNetTcp(...listening: number[]): string {
  const header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode";
  const rows = listening.map(
    (port, i) =>
      `   ${i}: 00000000:${port.toString(16).toUpperCase().padStart(4, "0")} 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 ${1000 + i} 1 0000000000000000 100 0 0 10 0`,
  );
  rows.push(
    `   ${listening.length}: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 2000 1 0000000000000000 20 4 30 10 -1`,
  );
  return `${header}\n${rows.join("\n")}\n`;
}

/** Runs `strategy` against a fake target through the real runner, with a container that never exits. */
export function waitOnFake(strategy: WaitStrategy, target: FakeTarget, timeoutMs: number): Promise<void> {
  return runWait({
    strategy,
    target,
    timeoutMs,
    exited: deferred<ExitInfo>().promise,
    context: { containerId: target.id },
    tailLogs: async () => "",
  });
}

/** The error a wait rejected with, typed as the runner's errors are; fails the test when the wait succeeded. */
export async function rejection(
  promise: Promise<unknown>,
): Promise<Error & { shortMessage: string; details?: string; lastError?: string; elapsedMs?: number; strategy?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { shortMessage: string; details?: string; lastError?: string; elapsedMs?: number; strategy?: string };
  }
  throw new Error("expected the wait to fail, but it succeeded");
}
