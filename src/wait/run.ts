import { debug } from "../debug.js";
import { engineGoneReason, isConnectionLoss, lossReason } from "../engine/connection.js";
import type { ContainerInspect } from "../engine/types.js";
import {
  ContainerExitedError,
  ContainerNotReadyError,
  describeContainer,
  EngineConnectionError,
  type ErrorContext,
  InvalidOptionError,
  WaitTimeoutError,
} from "../errors.js";
import {
  DeadlineReached,
  type ExitInfo,
  OutputEnded,
  untilAborted,
  type WaitContext,
  type WaitStrategy,
  type WaitTarget,
} from "./strategy.js";

export type { ExitInfo };

export interface RunWaitOptions {
  strategy: WaitStrategy;
  target: WaitTarget;
  /** The effective timeout in ms (the strategy's own, else the container's; already scaled). */
  timeoutMs: number;
  /** Settles when the container stops running. Rejections are ignored (the engine may drop the long poll). */
  exited: Promise<ExitInfo>;
  context: ErrorContext;
  /** The container's last log lines, for error messages. Must not throw. */
  tailLogs: () => Promise<string>;
  /** Put first in failures' details, e.g. whether the container was removed or kept. Default: nothing. */
  afterFailure?: string;
  /** Stops the wait; the promise then rejects with the signal's reason, untouched. */
  signal?: AbortSignal;
  /**
   * The engine, so that a wait that failed because the engine went away says so: its address for messages, and a
   * probe that rejects when the engine accepts no new connection. Without it, that case reads as the container's.
   */
  engine?: { endpoint: string; probe(signal: AbortSignal): Promise<void> };
}

/** How many log lines a failure quotes (the caller's `tailLogs` decides; this is what the heading says). */
export const FAILURE_LOG_LINES = 50;
/** How long failure reporting may spend on one extra engine call (state, logs): it must not stall the error. */
const FACT_TIMEOUT_MS = 2000;
/** How long a failed strategy waits for the exit notification, so the error names the real cause. */
const EXIT_GRACE_MS = 250;
/** Exit code of a process killed by SIGKILL (what the OOM killer sends). */
const SIGKILL_EXIT = 137;
/** How long after a SIGKILL exit to look again for the engine's OOM flag, which can trail the exit event. */
const OOM_EVENT_GRACE_MS = 100;
const OOM_EVENT_LOOKS_WITH_LIMIT = 2;

class Exited extends Error {
  constructor(readonly info: ExitInfo) {
    super(`the container exited with code ${info.exitCode}`);
  }
}

/** The exit long poll's connection broke: the engine stopped, restarted or crashed under the wait. */
class ConnectionLost extends Error {
  constructor(readonly reason: unknown) {
    super(`the connection to the engine broke: ${messageOf(reason)}`);
  }
}

/**
 * Runs a strategy against one deadline and fails fast: when the container exits (or is OOM-killed) while waiting,
 * the wait stops at once with {@link ContainerExitedError}; when the deadline passes, {@link WaitTimeoutError} says
 * what was awaited, for how long, how many probes ran, the last probe failure, the container's state and its last
 * log lines; when the strategy decides the container can never be ready, {@link ContainerNotReadyError}.
 */
export async function runWait(options: RunWaitOptions): Promise<void> {
  const { strategy, target, timeoutMs, context } = options;
  const description = strategy.describe();
  const area = `container ${target.id.slice(0, 12)}`;
  const started = Date.now();
  const controller = new AbortController();
  let attempts = 0;
  let lastError: string | undefined;
  const exited = options.exited;
  exited.catch(() => {});
  const waitContext: WaitContext = {
    signal: controller.signal,
    deadline: started + timeoutMs,
    exited,
    attempt: () => void attempts++,
    lastError: (reason) => void (lastError = reason),
  };
  const deadline = new DeadlineReached(timeoutMs);
  const timer = setTimeout(() => controller.abort(deadline), timeoutMs);
  const userAbort = () => controller.abort(options.signal?.reason);
  if (options.signal?.aborted) userAbort();
  else options.signal?.addEventListener("abort", userAbort, { once: true });
  let exitInfo: ExitInfo | undefined;
  let ready = false;
  exited.then(
    (info) => {
      exitInfo = info;
      // A one-shot container exiting 0 is its success (the strategy sees it); any other exit ends the wait now.
      if (!strategy.expectsExit || info.exitCode !== 0 || info.oomKilled) controller.abort(new Exited(info));
    },
    (error: unknown) => {
      // Any other drop of the long poll is left to the strategy (see RunWaitOptions.exited); a broken connection
      // means no strategy can succeed any more.
      if (isConnectionLoss(error)) controller.abort(new ConnectionLost(error));
    },
  );
  debug(area, `waiting for ${description} (timeout ${timeoutMs} ms)`);
  try {
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(controller.signal.reason);
      if (controller.signal.aborted) return onAbort();
      controller.signal.addEventListener("abort", onAbort, { once: true });
      strategy.waitUntilReady(target, waitContext).then(resolve, reject);
    });
    ready = true;
    debug(area, `ready: ${description} after ${Date.now() - started} ms, ${plural(attempts, "probe")}`);
  } catch (error) {
    // A timer may fire a millisecond before the wall clock says the timeout passed: the wait's own timeout never
    // reads as less (a composite's child deadline is another DeadlineReached, with its own, shorter, time).
    const elapsedMs = error === deadline ? Math.max(Date.now() - started, timeoutMs) : Date.now() - started;
    if (options.signal?.aborted && controller.signal.reason === options.signal.reason) {
      debug(area, `wait for ${description} aborted by the caller after ${elapsedMs} ms`);
      throw options.signal.reason;
    }
    // Bad options surface as they are: the container is not at fault.
    if (error instanceof InvalidOptionError) throw error;
    // An engine that went away explains every other symptom (a stream that ended, a container its shutdown
    // stopped): asked first, beside the facts below, on a new connection.
    const lost = engineLoss(options.engine, error);
    const facts: [string, string][] = [["Waited for", description]];
    // A strategy that failed on its own (log stream ended, exec refused) often did so because the container died:
    // give the exit notification a moment to arrive so the error names the real cause.
    if (!(error instanceof Exited) && !(error instanceof DeadlineReached) && exitInfo === undefined) {
      const info = await Promise.race([exited.catch(() => undefined), sleep(EXIT_GRACE_MS)]);
      if (info && (!strategy.expectsExit || info.exitCode !== 0 || info.oomKilled)) exitInfo = info;
    }
    // Fresh, short timeouts: the wait's own signal is spent, and a slow engine must not stall the error.
    const inspectBriefly = () => {
      const signal = AbortSignal.timeout(FACT_TIMEOUT_MS);
      return untilAborted(target.inspect(signal), signal).catch(() => undefined);
    };
    const logsSignal = AbortSignal.timeout(FACT_TIMEOUT_MS + 500);
    const [logs, firstInspect, lostReason] = await Promise.all([
      untilAborted(options.tailLogs(), logsSignal).catch((e: unknown) => `(could not read the container's logs: ${messageOf(e)})`),
      inspectBriefly(),
      lost,
    ]);
    if (lostReason !== undefined && options.engine) {
      const reason = lossReason(lostReason);
      facts.push(
        ["Elapsed", `${elapsedMs} ms of the ${timeoutMs} ms startup timeout`],
        ["Engine", `${options.engine.endpoint}: ${messageOf(lostReason)}`],
        ["Hint", "the engine stopped, restarted or crashed; once it is back, the next start() connects afresh"],
      );
      debug(area, `gave up on ${description}: the engine went away (${reason})`);
      throw new EngineConnectionError({
        ...context,
        endpoint: options.engine.endpoint,
        call: `the wait for ${description} on ${describeContainer(context)}, after ${elapsedMs} ms`,
        reason,
        details: formatDetails(options.afterFailure, facts, logs),
        cause: lostReason,
      });
    }
    let inspect = firstInspect;
    // A log stream ends as the process closes its output, which can come well before the engine records the exit
    // (under load, longer than the grace above; the state read above may still say running). The exit notice is a
    // long poll, so waiting on it costs nothing when the process did exit: only then, and only for a while.
    if (exitInfo === undefined && error instanceof OutputEnded && inspect?.State.Running) {
      const info = await Promise.race([exited.catch(() => undefined), sleep(FACT_TIMEOUT_MS)]);
      if (info && (!strategy.expectsExit || info.exitCode !== 0 || info.oomKilled)) {
        exitInfo = info;
        inspect = (await inspectBriefly()) ?? inspect;
      }
    }
    // The exit notice is a long poll of its own and can trail a strategy that gave up (under load, by more than the
    // grace above); the state read for this error already knows.
    if (exitInfo === undefined && !(error instanceof DeadlineReached) && inspect && hasExited(inspect)) {
      const info = { exitCode: inspect.State.ExitCode, oomKilled: inspect.State.OOMKilled };
      if (!strategy.expectsExit || info.exitCode !== 0 || info.oomKilled) exitInfo = info;
    }
    // The engine may record the exit before the kernel's OOM event: look again before calling it a plain kill, a
    // few times when a memory limit makes an OOM kill likely.
    const looks = inspect?.HostConfig.Memory ? OOM_EVENT_LOOKS_WITH_LIMIT : 1;
    for (let look = 0; look < looks && exitInfo?.exitCode === SIGKILL_EXIT && !exitInfo.oomKilled && !inspect?.State.OOMKilled; look++) {
      await sleep(OOM_EVENT_GRACE_MS);
      inspect = (await inspectBriefly()) ?? inspect;
    }
    if (exitInfo && inspect?.State.OOMKilled) exitInfo = { ...exitInfo, oomKilled: true };
    const failed = exitInfo !== undefined && (!strategy.expectsExit || exitInfo.exitCode !== 0 || exitInfo.oomKilled);
    const state = describeState(inspect, failed ? exitInfo : undefined);
    let headline: string;
    if (failed && exitInfo) {
      facts.push(["Elapsed", `${elapsedMs} ms of the ${timeoutMs} ms startup timeout`], ["State", state]);
      debug(area, `gave up on ${description}: exited with code ${exitInfo.exitCode}${exitInfo.oomKilled ? " (OOM-killed)" : ""}`);
      const limit = inspect?.HostConfig.Memory ? `, memory limit ${formatBytes(inspect.HostConfig.Memory)}` : "";
      headline = exitInfo.oomKilled
        ? `${title(context)} was OOM-killed (exit code ${exitInfo.exitCode}${limit}) after ${elapsedMs} ms while waiting for ${description}: give it more memory (withResources({ memoryBytes }))`
        : `${title(context)} exited with code ${exitInfo.exitCode} after ${elapsedMs} ms while waiting for ${description}${exitHint(exitInfo, inspect)}`;
      throw new ContainerExitedError(headline, {
        ...context,
        details: formatDetails(options.afterFailure, facts, logs),
        exitCode: exitInfo.exitCode,
        oomKilled: exitInfo.oomKilled,
        cause: error instanceof Exited ? undefined : error,
      });
    }
    if (error instanceof DeadlineReached) {
      facts.push(
        ["Elapsed", `${elapsedMs} ms (startup timeout ${timeoutMs} ms)`],
        ["Attempts", String(attempts)],
        ["Last error", lastError ?? "(none recorded)"],
        ["State", state],
        ["Hint", "if the service is only slow, raise withStartupTimeout(ms) or scale all timeouts with THROWAWAY_STARTUP_TIMEOUT_SCALE"],
      );
      debug(area, `gave up on ${description}: timed out after ${elapsedMs} ms, ${plural(attempts, "probe")}`);
      const still = inspect ? `, which is ${shortState(inspect)}` : "";
      const last = lastError ? `, last error: ${lastError}` : "";
      headline = `Timed out after ${elapsedMs} ms waiting for ${description} on ${describeContainer(context)}${still}: ${plural(attempts, "attempt")}${last}`;
      throw new WaitTimeoutError(headline, {
        ...context,
        details: formatDetails(options.afterFailure, facts, logs),
        strategy: description,
        timeoutMs,
        elapsedMs,
        attempts,
        ...(lastError ? { lastError } : {}),
        ...(error.what ? { cause: error } : {}),
      });
    }
    const reason = messageOf(error);
    facts.push(["Elapsed", `${elapsedMs} ms of the ${timeoutMs} ms startup timeout`], ["Attempts", String(attempts)], ["State", state]);
    debug(area, `gave up on ${description}: ${reason}`);
    throw new ContainerNotReadyError(`${title(context)} can never become ready for ${description}: ${reason}`, {
      ...context,
      details: formatDetails(options.afterFailure, facts, logs),
      strategy: description,
      cause: error,
    });
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", userAbort);
    // Stops the streams and probes the strategy left running. Once ready, that cleanup (closing sockets) waits for
    // the next turn of the event loop, so the caller gets the container first.
    if (ready) setImmediate(() => controller.abort());
    else controller.abort();
  }
}

/**
 * Why the engine is gone, or `undefined` when it is not (or cannot tell in time: a slow engine is not a gone one).
 * A broken exit long poll is proof enough; otherwise the engine must refuse a new connection.
 */
async function engineLoss(engine: RunWaitOptions["engine"], error: unknown): Promise<unknown> {
  if (error instanceof ConnectionLost) return error.reason;
  return engine ? engineGoneReason(engine.probe, FACT_TIMEOUT_MS) : undefined;
}

/** What an exit code alone suggests, for the one-line message. */
function exitHint(exit: ExitInfo, inspect: ContainerInspect | undefined): string {
  if (exit.exitCode === 0) return ": it ran to completion; for a container meant to exit, use Wait.forOneShotStartup()";
  const memory = inspect?.HostConfig.Memory;
  if (exit.exitCode === SIGKILL_EXIT && memory) {
    // Seen on cgroup v2 engines: the kernel's OOM kill is sometimes not flagged; the limit makes it the likely cause.
    return `: SIGKILL, most likely the OOM killer (the engine did not flag it) under the ${formatBytes(memory)} memory limit; give it more memory (withResources({ memoryBytes }))`;
  }
  return "";
}

/** `Waited for: ...` lines aligned, then the log lines under a heading. */
function formatDetails(before: string | undefined, facts: [string, string][], logs: string): string {
  const width = Math.max(...facts.map(([label]) => label.length)) + 2;
  const lines = facts.map(([label, value]) => `${`${label}:`.padEnd(width)}${value}`);
  const logText = logs.trimEnd() || "(no output)";
  return `${before?.trim() ? `${before.trim()}\n\n` : ""}${lines.join("\n")}\n\nLast ${FAILURE_LOG_LINES} log lines of the container:\n${logText}`;
}

/** The short form for one-line messages: `running`, `exited with code 1`, `running, health: starting`. */
function shortState(inspect: ContainerInspect): string {
  const s = inspect.State;
  if (s.Status === "exited" || s.Status === "dead") return `${s.Status} with code ${s.ExitCode}${s.OOMKilled ? " (OOM-killed)" : ""}`;
  return s.Health && s.Health.Status !== "none" ? `${s.Status}, health: ${s.Health.Status}` : s.Status;
}

/** The long form for details: the short form plus the pid, start time and the last health check's output. */
function describeState(inspect: ContainerInspect | undefined, exit: ExitInfo | undefined): string {
  if (!inspect) {
    if (exit) return `exited with code ${exit.exitCode}${exit.oomKilled ? " (OOM-killed)" : ""}`;
    return "unknown (the engine did not answer an inspect in time)";
  }
  const s = inspect.State;
  const parts = [shortState(inspect)];
  if (s.Running && s.Pid) parts.push(`pid ${s.Pid}`);
  if (s.StartedAt && !s.StartedAt.startsWith("0001")) parts.push(`started ${s.StartedAt}`);
  if (s.Error) parts.push(`engine error: ${s.Error}`);
  const check = s.Health?.Log?.at(-1);
  if (check) parts.push(`last health check exited ${check.ExitCode}: ${JSON.stringify(check.Output.trim().slice(0, 200))}`);
  return parts.join(", ");
}

function title(context: ErrorContext): string {
  const text = describeContainer(context);
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function formatBytes(bytes: number): string {
  const mib = bytes / (1024 * 1024);
  return Number.isInteger(mib) ? `${mib} MiB` : `${bytes} bytes`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function sleep(ms: number): Promise<undefined> {
  return new Promise((resolve) => setTimeout(() => resolve(undefined), ms).unref());
}

/** The container ran and is no longer running (not merely created, and not restarting). */
function hasExited(inspect: ContainerInspect): boolean {
  return (inspect.State.Status === "exited" || inspect.State.Status === "dead") && !inspect.State.Restarting;
}
