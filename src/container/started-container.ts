import { Readable } from "node:stream";
import { channels, debug } from "../debug.js";
import { engineGoneReason, isConnectionLoss, lossReason } from "../engine/connection.js";
import type { LogLine } from "../engine/demux.js";
import { endpointUrl } from "../engine/discovery.js";
import type { Engine, ExecOptions, ExecResult } from "../engine/engine.js";
import type { ContainerInspect } from "../engine/types.js";
import {
  ContainerStateError,
  describeContainer,
  EngineConnectionError,
  type ErrorContext,
  InvalidOptionError,
  LifecycleHookError,
} from "../errors.js";
import { untrackResource } from "../reaper/tracker.js";
import { type ExitInfo, runWait } from "../wait/run.js";
import type { WaitStrategy, WaitTarget } from "../wait/strategy.js";
import { type CommitOptions, commitContainer } from "./commit.js";
import { type CopyItem, type CopyOwner, putCopyItems, untarToMap } from "./copy.js";
import { logsSinceAfter } from "./log-cursor.js";
import { mappedPorts, type PortMap } from "./ports.js";
import { type GracePeriod, graceSeconds } from "./stop-timeout.js";

/** Exit codes from 128 up mean the command was killed by a signal (137: SIGKILL, 143: SIGTERM). */
const SIGNAL_EXIT = 128;
/** How long an exec that was killed may spend asking whether the engine went away (ms). */
const ENGINE_CHECK_MS = 2000;

/** Everything a started container's handle needs; built by `GenericContainer.start()`. */
/**
 * Work a restart does while the container is stopped (a warm-start capture commits the cleanly stopped container
 * there). Internal: set by GenericContainer around one restart; must not throw.
 */
export const betweenStopAndStart = new WeakMap<object, () => Promise<void>>();

export interface ContainerHandleState {
  engine: Engine;
  id: string;
  name: string;
  /** The image reference it was created from (after substitution). */
  image: string;
  inspect: ContainerInspect;
  waitStrategy: WaitStrategy;
  startupTimeoutMs: number;
  /** Reused containers outlive the handle: `stop()` leaves them running unless told otherwise. */
  reused: boolean;
  /** Exposed ports in the order they were declared (`"8080/tcp"`): "first" means first declared, not first listed. */
  declaredPorts: string[];
  /** `stop()`'s default for `remove` (`withAutoRemove`); `true` when absent. */
  autoRemove?: boolean;
}

export interface StopOptions extends GracePeriod {
  /** Remove the container after stopping. Default `true`, or what `withAutoRemove` said. */
  remove?: boolean;
  /** Remove its anonymous volumes with it. Default `true`. */
  removeVolumes?: boolean;
}

export interface LogsOptions {
  /** Only lines since this time: a `Date` or Unix seconds. */
  since?: Date | number;
  /** Only the last N lines. */
  tail?: number;
  /**
   * Keep the stream open and deliver new lines until the container stops (or the stream is destroyed). Default
   * `false`: the stream holds the lines printed so far and ends. testcontainers' `logs()` always follows; pass
   * `follow: true` for that.
   */
  follow?: boolean;
}

/**
 * How to reach a started container from this machine: what `throwaway up` prints and writes to `--write-env`.
 * Modules add what their clients need (`uri` for MySQL); {@link StartedContainer.connectionInfo} gives the basics.
 */
export interface ConnectionInfo {
  /** The host to connect to (`127.0.0.1` for a local engine). */
  host: string;
  /** The host port of each exposed port, keyed like `"3306/tcp"`, in declared order. */
  ports: Record<string, number>;
  /**
   * Named values a client needs beyond host and port, e.g. `{ uri: "mysql://root@127.0.0.1:49153/test" }`. Names are
   * lower camel case; `--write-env` writes each as `<FIXTURE>_<NAME>` (`MYSQL_URI`).
   */
  values: Record<string, string>;
}

/** Why the handle is built this way: the same object serves users and wait strategies (as their target). */
export class StartedContainer implements AsyncDisposable {
  protected readonly state: ContainerHandleState;
  private ports: PortMap;
  private stopping: Promise<StoppedContainer> | undefined;
  private procView: { pid: number; ok: boolean } | undefined;

  constructor(state: ContainerHandleState) {
    this.state = state;
    this.ports = mappedPorts(state.inspect, state.declaredPorts);
  }

  protected get errorContext(): ErrorContext {
    return { image: this.state.image, containerId: this.state.id, containerName: this.state.name };
  }

  /** The host to connect to for published ports (`127.0.0.1` for a local engine; env `THROWAWAY_HOST_OVERRIDE`). */
  getHost(): string {
    return this.state.engine.host;
  }

  /** The host port bound to `port` (`3306`, `"53/udp"`); throws {@link InvalidOptionError} if it is not exposed. */
  getMappedPort(port: number | `${number}/${"tcp" | "udp"}`, protocol: "tcp" | "udp" = "tcp"): number {
    let key: string;
    if (typeof port === "string") key = port;
    else key = `${port}/${protocol}`;
    const mapped = this.ports.get(key);
    if (mapped === undefined) {
      const known = [...this.ports.keys()];
      throw new InvalidOptionError("getMappedPort", `an exposed port (${known.length ? known.join(", ") : "none are exposed"})`, port, {
        hint: "expose it with withExposedPorts before start()",
      });
    }
    return mapped;
  }

  /** The host port of the first exposed port, for single-port containers. */
  getFirstMappedPort(): number {
    const first = this.ports.values().next();
    if (first.done) {
      throw new ContainerStateError("getFirstMappedPort()", "no exposed ports", "expose one with withExposedPorts before start()", {
        containerId: this.state.id,
        containerName: this.state.name,
      });
    }
    return first.value;
  }

  /**
   * How to reach this container from this machine: host, mapped ports and (in modules) connection strings. Modules
   * override it to add their own `values`, e.g. MySQL's connection `uri`.
   */
  connectionInfo(): ConnectionInfo {
    return { host: this.getHost(), ports: Object.fromEntries(this.ports), values: {} };
  }

  getId(): string {
    return this.state.id;
  }

  /** The container name, without Docker's leading slash. */
  getName(): string {
    return this.state.name;
  }

  getImage(): string {
    return this.state.image;
  }

  getLabels(): Record<string, string> {
    return { ...(this.state.inspect.Config.Labels ?? {}) };
  }

  getNetworkNames(): string[] {
    return Object.keys(this.state.inspect.NetworkSettings.Networks ?? {});
  }

  /** The container's IP address on `network` (a name). */
  getIpAddress(network: string): string {
    const entry = this.state.inspect.NetworkSettings.Networks?.[network];
    if (!entry)
      throw new InvalidOptionError("getIpAddress", `a network the container is on (${this.getNetworkNames().join(", ")})`, network);
    return entry.IPAddress;
  }

  /** The container's host name (`withHostname`, else the engine's: its short id). */
  getHostname(): string {
    return this.state.inspect.Config.Hostname ?? this.state.id.slice(0, 12);
  }

  /** The id of `network` (a name the container is on). */
  getNetworkId(network: string): string {
    const entry = this.state.inspect.NetworkSettings.Networks?.[network];
    if (!entry)
      throw new InvalidOptionError("getNetworkId", `a network the container is on (${this.getNetworkNames().join(", ")})`, network);
    return entry.NetworkID;
  }

  /** The engine's inspect answer as of the last start or restart. */
  getInspectResult(): ContainerInspect {
    return this.state.inspect;
  }

  /**
   * Runs a command in the container. An array runs as is (no shell, so no quoting surprises); a string runs through
   * `/bin/sh -c`. A non-zero exit code is returned, not thrown.
   */
  async exec(command: string[] | string, options: ExecOptions = {}): Promise<ExecResult> {
    const cmd = typeof command === "string" ? ["/bin/sh", "-c", command] : command;
    if (!Array.isArray(cmd) || cmd.length === 0 || cmd.some((part) => typeof part !== "string")) {
      throw new InvalidOptionError("exec(command)", "a non-empty array of strings, or a shell string", command);
    }
    debug(`container ${this.state.id.slice(0, 12)}`, `exec ${JSON.stringify(cmd)}`);
    const { engine } = this.state;
    const call = `exec ${JSON.stringify(cmd)} in ${describeContainer(this.errorContext)}`;
    let result: ExecResult;
    try {
      result = await engine.exec(this.state.id, cmd, options);
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      if (isConnectionLoss(error)) throw this.engineWentAway(call, error);
      throw engine.requestError(`${call} failed`, error, this.errorContext);
    }
    // A command killed by a signal may have died with the engine (a dockerd shutting down stops its containers
    // first, and still answers on open connections): only then is one more call made, to tell.
    if (result.exitCode >= SIGNAL_EXIT || result.exitCode < 0) {
      const gone = await engineGoneReason((signal) => engine.pingNewConnection(signal), ENGINE_CHECK_MS);
      if (gone !== undefined) throw this.engineWentAway(call, gone);
    }
    return result;
  }

  private engineWentAway(call: string, cause: unknown): EngineConnectionError {
    return new EngineConnectionError({
      ...this.errorContext,
      endpoint: endpointUrl(this.state.engine.endpoint),
      call,
      reason: lossReason(cause),
      cause,
    });
  }

  /** The container's output as a stream of lines (each chunk one line, without its newline). */
  async logs(options: LogsOptions = {}): Promise<Readable> {
    const since = options.since instanceof Date ? Math.floor(options.since.getTime() / 1000) : options.since;
    const lines = await this.state.engine.logLines(this.state.id, {
      follow: options.follow ?? false,
      tty: this.state.inspect.Config.Tty,
      ...(since !== undefined ? { since } : {}),
      ...(options.tail !== undefined ? { tail: options.tail } : {}),
    });
    return Readable.from(
      (async function* () {
        for await (const { line } of lines) yield line;
      })(),
    );
  }

  /**
   * Copies files, directories or content into the running container (one tar, one call). A symlinked source is
   * followed; a source that cannot be copied (missing, a FIFO or socket inside a folder) is an
   * {@link InvalidOptionError} naming its path.
   */
  async copyToContainer(items: CopyItem[]): Promise<void> {
    await putCopyItems(this.state.engine, this.state.id, items, "copyToContainer");
  }

  /**
   * Makes an image of the container as it is now (`docker commit`) and resolves to its name (`repo:tag`, or the
   * image id without a `repo`). It goes with the session unless `deleteOnExit: false`.
   */
  commit(options: CommitOptions = {}): Promise<string> {
    return commitContainer(this.state.engine, this.state.id, options, this.errorContext);
  }

  /** Extracts a tar archive into `target`, a directory that exists in the container (default `/`); one call. */
  async copyArchiveToContainer(tar: Buffer | Readable, target = "/"): Promise<void> {
    if (!Buffer.isBuffer(tar) && !(tar instanceof Readable)) {
      throw new InvalidOptionError("copyArchiveToContainer(tar)", "a tar archive as a Buffer or a Readable stream", tar);
    }
    if (!target.startsWith("/")) throw new InvalidOptionError("copyArchiveToContainer(tar, target)", "an absolute path", target);
    await this.state.engine.putArchive(this.state.id, target, Buffer.isBuffer(tar) ? Readable.from([tar]) : tar);
  }

  /** A tar stream of `path` in the container (as `docker cp` makes it). */
  copyFromContainer(path: string): Promise<Readable> {
    return this.state.engine.getArchive(this.state.id, path);
  }

  /** testcontainers' name for {@link copyFromContainer}. */
  copyArchiveFromContainer(path: string): Promise<Readable> {
    return this.copyFromContainer(path);
  }

  /** Host files into the running container (testcontainers' name; {@link copyToContainer} takes every kind). */
  async copyFilesToContainer(files: ({ source: string; target: string; mode?: number } & CopyOwner)[]): Promise<void> {
    await this.copyToContainer(arrayOf("copyFilesToContainer(items)", files).map((f) => ({ kind: "file" as const, ...f })));
  }

  /** Host directories into the running container, recursively (testcontainers' name). */
  async copyDirectoriesToContainer(dirs: ({ source: string; target: string; mode?: number } & CopyOwner)[]): Promise<void> {
    await this.copyToContainer(arrayOf("copyDirectoriesToContainer(items)", dirs).map((d) => ({ kind: "directory" as const, ...d })));
  }

  /** Strings or Buffers as files in the running container (testcontainers' name). */
  async copyContentToContainer(contents: ({ content: string | Buffer; target: string; mode?: number } & CopyOwner)[]): Promise<void> {
    await this.copyToContainer(arrayOf("copyContentToContainer(items)", contents).map((c) => ({ kind: "content" as const, ...c })));
  }

  /** The content of one file in the container. */
  async readFile(path: string): Promise<Buffer> {
    const files = await untarToMap(await this.copyFromContainer(path));
    const file = files.values().next();
    if (file.done) throw new InvalidOptionError("readFile", "the path of a regular file in the container", path);
    return file.value;
  }

  /**
   * Restarts the container, re-reads its port bindings (host ports may change) and waits for it again with the
   * same strategy, looking only at what it prints after the restart. `timeout`: seconds to wait for a graceful stop
   * (SIGTERM) before SIGKILL, default 0.
   */
  async restart(options: GracePeriod = {}): Promise<void> {
    const { engine, id } = this.state;
    const timeout = graceSeconds(options, "restart");
    // Stop and start rather than the engine's restart: between the two, the old run's output is complete (the engine
    // drains it before reporting the stop), so its last line's timestamp marks where the new run's output begins.
    // A cursor from our clock would be wrong by the engine's clock skew, and whole seconds let old lines through.
    let since: number | string;
    try {
      await engine.stopContainer(id, timeout);
      since = await this.logCursor();
      await betweenStopAndStart.get(this)?.();
      await engine.startContainer(id);
      this.state.inspect = await engine.inspectContainer(id);
    } catch (error) {
      throw engine.requestError(`Restarting ${describeContainer(this.errorContext)} failed`, error, this.errorContext);
    }
    this.ports = mappedPorts(this.state.inspect, this.state.declaredPorts);
    this.procView = undefined;
    await this.waitUntilReady(since);
  }

  /** The `since` that skips every log line printed so far: just past the last line's engine timestamp. */
  private async logCursor(): Promise<number | string> {
    let last: string | undefined;
    const lines = await this.state.engine.logLines(this.state.id, { tail: 1, timestamps: true, tty: this.state.inspect.Config.Tty });
    for await (const { line } of lines) last = line;
    if (last === undefined) return 0; // nothing printed yet: every line is new
    return logsSinceAfter(last) ?? Math.floor(Date.now() / 1000);
  }

  /**
   * Runs the wait strategy against this container; `GenericContainer.start()` and `restart()` use it. `logsSince`:
   * where log waits start reading (Unix seconds, or the engine's `seconds.nanoseconds`); `logLines`: a log source
   * to use instead of a stream of the wait's own (start shares the log consumer's).
   */
  async waitUntilReady(logsSince: number | string = 0, logLines?: (signal: AbortSignal) => Promise<AsyncIterable<LogLine>>): Promise<void> {
    const { engine, id, waitStrategy } = this.state;
    const exitWatch = new AbortController();
    const exited: Promise<ExitInfo> = engine.waitContainer(id, exitWatch.signal).then(async (exitCode) => {
      const inspect = await engine.inspectContainer(id).catch(() => undefined);
      return { exitCode, oomKilled: inspect?.State.OOMKilled ?? false };
    });
    exited.catch(() => {});
    try {
      await runWait({
        strategy: waitStrategy,
        target: this.waitTarget(logsSince, logLines),
        timeoutMs: waitStrategy.startupTimeoutMs ?? this.state.startupTimeoutMs,
        exited,
        context: this.errorContext,
        tailLogs: () => engine.tailLogs(id, 50),
        afterFailure: "",
        engine: { endpoint: endpointUrl(engine.endpoint), probe: (signal) => engine.pingNewConnection(signal) },
      });
    } finally {
      exitWatch.abort();
    }
    channels.containerReady.publish({ id, image: this.state.image });
  }

  /** This container as the narrow target wait strategies see. */
  waitTarget(logsSince: number | string = 0, logLines?: (signal: AbortSignal) => Promise<AsyncIterable<LogLine>>): WaitTarget {
    const { engine, id } = this.state;
    return {
      id,
      host: engine.host,
      boundPorts: () =>
        this.state.declaredPorts.map((key) => {
          const [port, protocol] = key.split("/");
          return { port: Number(port), protocol: protocol as "tcp" | "udp" };
        }),
      mappedPort: (port, protocol = "tcp") => this.getMappedPort(port, protocol),
      logLines: (signal) =>
        logLines?.(signal) ??
        (engine.logLines(id, { follow: true, since: logsSince, tty: this.state.inspect.Config.Tty, signal }) as Promise<
          AsyncIterable<LogLine>
        >),
      exec: (cmd, signal) => engine.exec(id, cmd, { signal }),
      inspect: (signal) => engine.inspectContainer(id, signal),
      listeningPorts: () => this.listeningPortsFromHost(),
      healthChecksRunBy: () => engine.healthChecksRunBy(),
      healthStatusChanges: async (signal) => {
        const events = await engine.events({ container: [id], event: ["health_status"] }, signal);
        return (async function* () {
          for await (const event of events) {
            const status = event.Action?.replace(/^health_status:\s*/, "");
            if (status) yield status;
          }
        })();
      },
    };
  }

  /**
   * Reads the container's listening TCP ports from `/proc/<pid>/net/tcp*` on this host. Only trusted when the
   * engine is local and that pid's cgroup names this container (so a pid from another machine, a VM or a pid
   * namespace we cannot see is never misread); otherwise `undefined`.
   */
  private async listeningPortsFromHost(): Promise<ReadonlySet<number> | undefined> {
    const pid = this.state.inspect.State.Pid;
    if (!this.state.engine.isLocal() || !pid) return undefined;
    const { readListeningPorts, readProcFile } = await import("../wait/proc-net.js");
    if (this.procView?.pid !== pid) {
      const cgroup = (await readProcFile(`/proc/${pid}/cgroup`)) ?? "";
      // Rootless Podman on cgroup v1 puts containers in no cgroup of their own: the pid is then known for the
      // container's by the hostname its root file system holds (an engine in a pid namespace of its own, as rootless
      // Docker is, reports a pid that is some other process here, with another hostname).
      const hostname = this.state.inspect.Config.Hostname;
      const ok =
        cgroup.includes(this.state.id) ||
        (!!hostname && ((await readProcFile(`/proc/${pid}/root/etc/hostname`)) ?? "").trim() === hostname);
      this.procView = { pid, ok };
    }
    if (!this.procView.ok) return undefined;
    return readListeningPorts(pid);
  }

  /**
   * Stops the container and (by default) removes it. Idempotent: later calls return the first call's result.
   * Reused containers are left running unless `remove: true` is passed explicitly. Bad options reject this call only:
   * they are checked before the first call's result is kept, so a later `stop()` (or `await using`) still works.
   */
  stop(options: StopOptions = {}): Promise<StoppedContainer> {
    if (this.stopping) return this.stopping;
    let seconds: number;
    try {
      seconds = validateStopOptions(options);
    } catch (error) {
      return Promise.reject(error);
    }
    this.stopping = this.stopWithHooks(options, seconds);
    return this.stopping;
  }

  /** Lifecycle hook for modules' started types: runs before the container is stopped (not for one left running). */
  protected containerStopping(): void | Promise<void> {}

  /** Lifecycle hook for modules' started types: runs after the container was stopped (and removed, by default). */
  protected containerStopped(): void | Promise<void> {}

  /**
   * A throwing `containerStopping` still lets the container go (nothing may leak); its error is thrown afterwards as
   * a {@link LifecycleHookError}, as is one from `containerStopped`.
   */
  private async stopWithHooks(options: StopOptions, seconds: number): Promise<StoppedContainer> {
    const leftRunning = this.state.reused && options.remove === undefined;
    const stopping = leftRunning ? undefined : await this.hookError("containerStopping", () => this.containerStopping());
    const stopped = await this.doStop(options, seconds);
    const failure = stopping ?? (leftRunning ? undefined : await this.hookError("containerStopped", () => this.containerStopped()));
    if (failure) throw failure;
    return stopped;
  }

  private async hookError(hook: string, run: () => void | Promise<void>): Promise<LifecycleHookError | undefined> {
    try {
      await run();
      return undefined;
    } catch (error) {
      const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
      return new LifecycleHookError(`${this.constructor.name}.${hook}() threw: ${reason}`, { ...this.errorContext, hook, cause: error });
    }
  }

  private async doStop(options: StopOptions, seconds: number): Promise<StoppedContainer> {
    const { engine, id } = this.state;
    const started = Date.now();
    if (this.state.reused && options.remove === undefined) {
      debug(`container ${id.slice(0, 12)}`, "reused container left running");
      return new StoppedContainer(this.state, false);
    }
    const remove = options.remove ?? this.state.autoRemove ?? true;
    const timeout = seconds;
    try {
      if (timeout > 0 || !remove) await engine.stopContainer(id, timeout);
      if (remove) {
        // force=true kills and removes in one call: the fast path for throwaway containers.
        await engine.removeContainer(id, { force: true, volumes: options.removeVolumes ?? true });
        untrackResource("container", id);
      }
    } catch (error) {
      this.stopping = undefined; // let a later call try again
      // requestError appends the engine's text itself.
      throw engine.requestError(`Stopping ${describeContainer(this.errorContext)} failed`, error, this.errorContext);
    }
    debug(`container ${id.slice(0, 12)}`, `${remove ? "removed" : "stopped"} in ${Date.now() - started} ms`);
    channels.containerStopped.publish({ id, removed: remove });
    return new StoppedContainer(this.state, remove);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** The list a testcontainers-style copy method was given, checked: an array, else the method's typed error. */
function arrayOf<T>(option: string, value: T[]): T[] {
  if (!Array.isArray(value)) throw new InvalidOptionError(option, "an array of items to copy", value);
  return value;
}

/** Checks {@link StopOptions} before anything is sent (the engine takes whole seconds: a fraction rounds up). */
/** Checks `stop()`'s options before anything is remembered, and returns the grace period in the engine's seconds. */
function validateStopOptions(options: StopOptions): number {
  if (typeof options !== "object" || options === null) throw new InvalidOptionError("stop(options)", "an object", options);
  const { remove, removeVolumes } = options;
  if (remove !== undefined && typeof remove !== "boolean") throw new InvalidOptionError("stop({ remove })", "a boolean", remove);
  if (removeVolumes !== undefined && typeof removeVolumes !== "boolean") {
    throw new InvalidOptionError("stop({ removeVolumes })", "a boolean", removeVolumes);
  }
  return graceSeconds(options, "stop");
}

/** A container after `stop()`: its id, and its files when it was stopped but not removed. */
export class StoppedContainer implements AsyncDisposable {
  private readonly state: ContainerHandleState;
  readonly removed: boolean;

  constructor(state: ContainerHandleState, removed: boolean) {
    this.state = state;
    this.removed = removed;
  }

  getId(): string {
    return this.state.id;
  }

  getName(): string {
    return this.state.name;
  }

  /** A tar stream of `path` in the stopped (not removed) container. */
  copyFromContainer(path: string): Promise<Readable> {
    if (this.removed) {
      const fix = "stop it with stop({ remove: false }) to keep its files, or copy them before stop()";
      return Promise.reject(
        new ContainerStateError("copyFromContainer()", "been removed", fix, { containerId: this.state.id, containerName: this.state.name }),
      );
    }
    return this.state.engine.getArchive(this.state.id, path);
  }

  /** Removes a container that was stopped with `remove: false`. */
  async remove(): Promise<void> {
    if (this.removed) return;
    await this.state.engine.removeContainer(this.state.id, { force: true, volumes: true });
    untrackResource("container", this.state.id);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.state.reused) await this.remove();
  }
}
