import { readFileSync } from "node:fs";
import type { Duplex, Readable } from "node:stream";
import { env } from "../config.js";
import { debug } from "../debug.js";
import { type ContainerStartError, EngineApiVersionError, EngineHttpError, type EngineRequestError, type ErrorContext } from "../errors.js";
import { compareApiVersions, MIN_API_VERSION, negotiateApiVersion } from "./api-version.js";
import { demuxAll, demuxLines, type LogLine } from "./demux.js";
import { containerHost, type EngineEndpoint, endpointUrl, publishHostIp } from "./discovery.js";
import type { DockerodeClient } from "./dockerode-transport.js";
import { type EngineFailure, engineMessage, engineStatus, toRequestError, toStartError } from "./engine-errors.js";
import { jsonLines } from "./json-lines.js";
import { sshSettings } from "./ssh.js";
import {
  type EngineTraits,
  engineTraits,
  healthChecksOf,
  type InfoAnswer,
  isPodman,
  type PodmanInfoAnswer,
  type VersionAnswer,
} from "./traits.js";
import { deferredTransport, HttpTransport, type TlsMaterial, type Transport, type TransportRequest } from "./transport.js";
import type {
  ContainerInspect,
  ContainerSummary,
  ImageInspect,
  ImageSummary,
  NetworkSummary,
  RegistryAuth,
  VolumeSummary,
} from "./types.js";

export interface ExecResult {
  /** What the command wrote to stdout. */
  stdout: string;
  /** What the command wrote to stderr. */
  stderr: string;
  /** stdout and stderr interleaved as they arrived. */
  output: string;
  exitCode: number;
}

/** One engine event (`GET /events`), e.g. `{ Type: "container", Action: "health_status: healthy", id }`. */
export interface EngineEvent {
  Type?: string;
  Action?: string;
  /** The subject's id (a container's for container events). */
  id?: string;
  /** Unix seconds. */
  time?: number;
}

export interface ExecOptions {
  /** Extra environment for the command, on top of the container's. */
  env?: Record<string, string>;
  workingDir?: string;
  /** `user`, `uid`, `user:group` or `uid:gid`. Default: the container's user. */
  user?: string;
  /**
   * Stops waiting for the command: the call rejects with the signal's reason and the output stream is closed. The
   * command itself may run on in the container (the Engine API has no way to kill an exec).
   */
  signal?: AbortSignal;
}

interface DialOptions {
  query?: Record<string, unknown>;
  body?: unknown;
  statusCodes?: Record<number, boolean | string>;
  signal?: AbortSignal;
  isStream?: boolean;
  hijack?: boolean;
  file?: Readable;
  authconfig?: RegistryAuth | { base64: string };
  registryconfig?: Record<string, RegistryAuth>;
  headers?: Record<string, string>;
  /**
   * ms the engine has to answer; default `THROWAWAY_API_TIMEOUT`; 0 for none (long polls). Streams have none. Every
   * transport honours it (see {@link TransportRequest.timeoutMs}).
   */
  timeoutMs?: number;
  fresh?: boolean;
}

/** What {@link Engine.removeImage} did. */
export type ImageRemoval =
  | { outcome: "removed" }
  /** There was no such image (already removed). */
  | { outcome: "absent" }
  /** The engine kept it: `reason` is its own words (a container uses it, images were built on it). */
  | { outcome: "kept"; statusCode: 409; reason: string };

/**
 * The only door to the Docker Engine API. Everything above it speaks in throwaway's own types; every call is
 * counted (`apiCalls`) so benchmarks and tests can hold the hot path to a budget.
 */
export class Engine {
  /** Engine API calls made through this engine since it was created. */
  apiCalls = 0;
  readonly endpoint: EngineEndpoint;
  /** The host tests connect to for published ports. */
  readonly host: string;
  /** The host IP ports are published on (empty: every interface). */
  readonly publishHostIp: string;
  // The Engine API goes over Node's own http (src/engine/transport.ts), ssh:// engines included (through the system
  // ssh client): dockerode, with its gRPC and SSH stacks, costs ~80 ms and ~28 MiB in every test process. It serves
  // only a client passed in code, through a transport loaded then.
  private readonly transport: Transport;
  /** True over our own transport: it reports the engine's API version, so paths are versioned and checked. */
  private readonly versioned: boolean;
  private readonly apiTimeoutMs: number;
  /** The version pinned with `THROWAWAY_API_VERSION`, if any: then no negotiation. */
  private readonly pinnedApiVersion: string | undefined;
  /** The version requests are sent at; unknown until the engine's first answer (then unversioned paths). */
  private negotiatedApiVersion: string | undefined;
  /** The newest version the engine speaks, from its last answer. */
  private engineApiVersion: string | undefined;
  private infoCache: Promise<{ Architecture: string; OSType: string; ServerVersion: string; OperatingSystem: string }> | undefined;
  private traitsCache: Promise<EngineTraits> | undefined;
  /** The product the last answer named (from its headers), when the transport is ours. */
  private product: "docker" | "podman" | undefined;

  /**
   * @param endpoint Where the engine is (see `parseDockerHost`).
   * @param client A dockerode client to make every call through instead of throwaway's own transport (dockerode is
   *   an optional peer dependency: only those who pass a client need it).
   * @param transport @internal The transport to use (tests of pure logic pass a fake); wins over `client`.
   */
  constructor(endpoint: EngineEndpoint, client?: DockerodeClient, transport?: Transport) {
    this.endpoint = endpoint;
    this.apiTimeoutMs = env.apiTimeoutMs();
    this.pinnedApiVersion = env.apiVersion();
    this.versioned = !transport && !client;
    if (transport) this.transport = transport;
    else if (client) {
      const url = endpointUrl(endpoint);
      this.transport = deferredTransport(import("./dockerode-transport.js").then((m) => new m.DockerodeTransport(client, url)));
    } else {
      const tls = endpoint.kind === "tcp" ? tlsMaterial(endpoint) : undefined;
      const sshConfigFile = endpoint.kind === "ssh" ? env.sshConfigFile() : undefined;
      this.transport = new HttpTransport(endpoint, {
        ...(tls ? { tls } : {}),
        ...(sshConfigFile ? { sshConfigFile } : {}),
        onApiVersion: (version) => this.noteApiVersion(version),
        onProduct: (product) => {
          this.product = product;
        },
      });
    }
    const host = containerHost(endpoint);
    // An ssh:// host may be an alias of the user's ssh config: its ports are reached at the address it stands for.
    this.host = endpoint.kind === "ssh" && host === endpoint.host ? (sshSettings(endpoint, env.sshConfigFile()).hostname ?? host) : host;
    this.publishHostIp = publishHostIp(endpoint);
  }

  /** The Engine API version requests go out at (`undefined` before the engine first answered, or for a passed client). */
  get apiVersion(): string | undefined {
    return this.versioned ? (this.pinnedApiVersion ?? this.negotiatedApiVersion) : undefined;
  }

  private noteApiVersion(version: string): void {
    this.engineApiVersion = version;
    if (this.negotiatedApiVersion === undefined && compareApiVersions(version, MIN_API_VERSION) >= 0) {
      this.negotiatedApiVersion = negotiateApiVersion(version);
    }
  }

  /**
   * Closes the kept-alive connections this engine holds idle (for an ssh:// engine, its ssh processes). Calls made
   * later open new ones; idle connections never keep the process alive, so this is for tidiness, not exit.
   */
  close(): void {
    this.transport.close();
  }

  /** `unix:///var/run/docker.sock (default socket)`. */
  describe(): string {
    return `${endpointUrl(this.endpoint)} (${this.endpoint.source})`;
  }

  /** True when the engine runs on this machine and shares its process view (containers' pids are ours). */
  isLocal(): boolean {
    return this.endpoint.kind === "unix";
  }

  // Async, so that whatever fails while a call is prepared (a query that cannot be encoded, a transport that throws)
  // rejects the caller's promise instead of throwing at the call site.
  private async dial<T>(method: string, path: string, options: DialOptions = {}): Promise<T> {
    this.apiCalls++;
    debug("engine", `${method} ${path}`);
    const tooOld = this.engineTooOld();
    if (tooOld) throw tooOld;
    const hasQuery = options.query && Object.keys(options.query).length > 0;
    const version = this.apiVersion;
    const streaming = (options.isStream ?? false) || (options.hijack ?? false);
    let result: T;
    try {
      result = await this.transport.request<T>({
        method,
        path: version ? `/v${version}${path}` : path,
        ...(hasQuery ? { query: stripUndefined(options.query!) } : {}),
        ...(options.body !== undefined ? { body: options.body } : {}),
        ...(options.file ? { file: options.file } : {}),
        statusCodes: options.statusCodes ?? { 200: true, 201: true, 204: true, 304: true },
        isStream: options.isStream ?? false,
        hijack: options.hijack ?? false,
        ...(streaming ? {} : { timeoutMs: options.timeoutMs ?? this.apiTimeoutMs }),
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.authconfig ? { authconfig: options.authconfig } : {}),
        ...(options.registryconfig ? { registryconfig: options.registryconfig } : {}),
        ...(options.headers ? { headers: options.headers } : {}),
        ...(options.fresh ? { fresh: true } : {}),
      });
    } catch (error) {
      return this.versionRefusal(error, version);
    }
    const late = this.engineTooOld();
    if (late) throw late;
    return result;
  }

  /** An engine older than the oldest version throwaway supports (unless a version is pinned: then the engine decides). */
  private engineTooOld(): EngineApiVersionError | undefined {
    const engineVersion = this.engineApiVersion;
    if (this.pinnedApiVersion || !engineVersion || compareApiVersions(engineVersion, MIN_API_VERSION) >= 0) return undefined;
    return new EngineApiVersionError(
      `The engine at ${endpointUrl(this.endpoint)} speaks Engine API ${engineVersion}, older than ${MIN_API_VERSION}, the oldest throwaway supports: upgrade the engine`,
      { endpoint: endpointUrl(this.endpoint), clientVersion: MIN_API_VERSION, engineVersion },
    );
  }

  /**
   * A 400 on a versioned path may be the engine refusing the version itself (a pinned one it finds too old or too
   * new). Only then, off the hot path, one `/version` call tells which versions the engine accepts; a version it
   * does not accept becomes an {@link EngineApiVersionError} naming both, anything else stays what it was.
   */
  private async versionRefusal(error: unknown, version: string | undefined): Promise<never> {
    if (!version || !(error instanceof EngineHttpError) || error.status !== 400) throw error;
    let accepted: { ApiVersion?: string; MinAPIVersion?: string };
    try {
      this.apiCalls++;
      accepted = await this.transport.request({
        method: "GET",
        path: "/version",
        statusCodes: { 200: true },
        isStream: false,
        hijack: false,
        timeoutMs: this.apiTimeoutMs,
      });
    } catch {
      throw error;
    }
    const newest = accepted.ApiVersion;
    const oldest = accepted.MinAPIVersion;
    const tooNew = newest !== undefined && compareApiVersions(version, newest) > 0;
    const tooOld = oldest !== undefined && compareApiVersions(version, oldest) < 0;
    if (!tooNew && !tooOld) throw error;
    const range = `${oldest ?? "?"} to ${newest ?? "?"}`;
    throw new EngineApiVersionError(
      `The engine at ${endpointUrl(this.endpoint)} refuses Engine API ${version} (it accepts ${range}): ${this.pinnedApiVersion ? "unset THROWAWAY_API_VERSION or pin a version in that range" : "upgrade throwaway or the engine"}`,
      {
        endpoint: endpointUrl(this.endpoint),
        clientVersion: version,
        engineVersion: newest ?? "unknown",
        ...(oldest ? { engineMinVersion: oldest } : {}),
        details: `The engine said: ${error.engineMessage}`,
        cause: error,
      },
    );
  }

  async ping(signal?: AbortSignal): Promise<void> {
    await this.dial("GET", "/_ping", signal ? { signal } : {});
  }

  /**
   * Pings over a new connection. An engine that is shutting down closes its socket first and still serves the
   * connections already open (ours, kept alive) until it exits: only a new connection tells it is going away.
   */
  async pingNewConnection(signal: AbortSignal): Promise<void> {
    await this.dial("GET", "/_ping", { signal, fresh: true });
  }

  info(): Promise<{ Architecture: string; OSType: string; ServerVersion: string; OperatingSystem: string }> {
    this.infoCache ??= this.dial("GET", "/info");
    return this.infoCache;
  }

  /**
   * Who runs HEALTHCHECKs (see {@link EngineTraits.healthChecks}): known from the answers already received (Podman
   * names itself in every one), so a health wait costs no call; {@link traits} only for a client passed in code.
   */
  async healthChecksRunBy(): Promise<EngineTraits["healthChecks"]> {
    if (this.product !== undefined) return healthChecksOf(this.product);
    return (await this.traits()).healthChecks;
  }

  /** What kind of engine this is and what it can do (Docker or Podman, remote, rootless); two calls, once. */
  traits(): Promise<EngineTraits> {
    this.traitsCache ??= Promise.all([this.dial<VersionAnswer>("GET", "/version"), this.info() as Promise<InfoAnswer>]).then(
      async ([version, info]) => {
        // Podman answers its libpod API under its own version (4.0.0 is the oldest that has it) and under the
        // Docker API version of a versioned client; whichever way this client sends paths, one of the two answers.
        // Without either (an odd engine), the traits only miss rootless.
        const podmanInfo = isPodman(version)
          ? await this.dial<PodmanInfoAnswer>("GET", "/v4.0.0/libpod/info")
              .catch(() => this.dial<PodmanInfoAnswer>("GET", "/libpod/info"))
              .catch(() => undefined)
          : undefined;
        return engineTraits(this.endpoint, endpointUrl(this.endpoint), version, info, podmanInfo);
      },
    );
    this.traitsCache.catch(() => {
      this.traitsCache = undefined;
    });
    return this.traitsCache;
  }

  // ---- containers -------------------------------------------------------------------------------------------

  /** Creates a container; returns its id. `404` (image missing) is left for the caller to handle (it pulls). */
  async createContainer(body: Record<string, unknown>, query: { name?: string; platform?: string }): Promise<string> {
    const result = await this.dial<{ Id: string; Warnings?: string[] }>("POST", "/containers/create", {
      query,
      body,
      statusCodes: { 200: true, 201: true },
    });
    for (const warning of result.Warnings ?? []) debug("engine", `create warning: ${warning}`);
    return result.Id;
  }

  async startContainer(id: string): Promise<void> {
    await this.dial("POST", `/containers/${id}/start`, { statusCodes: { 204: true, 304: true } });
  }

  async inspectContainer(id: string, signal?: AbortSignal): Promise<ContainerInspect> {
    return this.dial("GET", `/containers/${id}/json`, signal ? { signal } : {});
  }

  /** Resolves with the exit code when the container stops running (a long poll: one call for the whole wait). */
  async waitContainer(id: string, signal?: AbortSignal): Promise<number> {
    const result = await this.dial<{ StatusCode: number }>("POST", `/containers/${id}/wait`, {
      query: { condition: "not-running" },
      timeoutMs: 0,
      ...(signal ? { signal } : {}),
    });
    return result.StatusCode;
  }

  async killContainer(id: string, signal = "SIGKILL"): Promise<void> {
    await this.dial("POST", `/containers/${id}/kill`, { query: { signal }, statusCodes: { 204: true, 409: true } });
  }

  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    await this.dial("POST", `/containers/${id}/stop`, {
      query: { t: timeoutSeconds },
      statusCodes: { 204: true, 304: true },
      // The engine answers after the container's own grace period: that is not a hang.
      timeoutMs: this.apiTimeoutMs + timeoutSeconds * 1000,
    });
  }

  async restartContainer(id: string, timeoutSeconds: number): Promise<void> {
    await this.dial("POST", `/containers/${id}/restart`, {
      query: { t: timeoutSeconds },
      statusCodes: { 204: true },
      timeoutMs: this.apiTimeoutMs + timeoutSeconds * 1000,
    });
  }

  /** Removes a container; a container that is already gone (or being removed) is not an error. */
  async removeContainer(id: string, options: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    try {
      await this.dial("DELETE", `/containers/${id}`, {
        query: { force: options.force ?? true, v: options.volumes ?? true },
        statusCodes: { 204: true, 404: true },
      });
    } catch (error) {
      // Someone else (the exit hooks, the reaper, a parallel stop) is already removing it: with `force`, that is the
      // only conflict the engine reports (409). Returning now would let the caller remove the container's network
      // while it is still attached: wait until it is really gone.
      if (engineStatus(error) !== 409 || options.force === false) throw error;
      await this.dial("POST", `/containers/${id}/wait`, {
        query: { condition: "removed" },
        statusCodes: { 200: true, 404: true },
        timeoutMs: 30_000,
      }).catch(() => {});
    }
  }

  async listContainers(filters: Record<string, string[]>, all = true): Promise<ContainerSummary[]> {
    return this.dial("GET", "/containers/json", { query: { all, filters: JSON.stringify(filters) } });
  }

  /** The container's logs as lines, demultiplexed; follows new output until the container stops when `follow`. */
  async logLines(
    id: string,
    // `since`: Unix seconds, or `"seconds.nanoseconds"` for a cursor finer than a number can hold.
    options: { follow?: boolean; since?: number | string; tail?: number; tty?: boolean; signal?: AbortSignal; timestamps?: boolean } = {},
  ): Promise<AsyncGenerator<LogLine>> {
    const stream = await this.dial<Readable>("GET", `/containers/${id}/logs`, {
      query: {
        follow: options.follow ?? false,
        stdout: true,
        stderr: true,
        since: options.since ?? 0,
        tail: options.tail === undefined ? "all" : String(options.tail),
        timestamps: options.timestamps ?? false,
      },
      isStream: true,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (options.signal) {
      const onAbort = () => stream.destroy();
      options.signal.addEventListener("abort", onAbort, { once: true });
      stream.once("close", () => options.signal?.removeEventListener("abort", onAbort));
    }
    return demuxLines(stream, options.tty ?? false);
  }

  /**
   * Engine events as they happen, filtered by the engine (e.g. `{ container: [id], event: ["health_status"] }`): one
   * long-lived call instead of polling. The stream ends when `signal` aborts. `since` (Unix seconds) first replays
   * the engine's recent events from then on.
   */
  async events(
    filters: Record<string, string[]>,
    signal?: AbortSignal,
    options: { since?: number } = {},
  ): Promise<AsyncGenerator<EngineEvent>> {
    const stream = await this.dial<Readable>("GET", "/events", {
      query: { filters: JSON.stringify(filters), ...(options.since !== undefined ? { since: options.since } : {}) },
      isStream: true,
      ...(signal ? { signal } : {}),
    });
    if (signal) {
      const onAbort = () => stream.destroy();
      signal.addEventListener("abort", onAbort, { once: true });
      stream.once("close", () => signal.removeEventListener("abort", onAbort));
    }
    return jsonLines<EngineEvent>(stream);
  }

  /** The last `tail` lines of the container's logs, for error messages; never throws. */
  async tailLogs(id: string, tail: number, timeoutMs = 2000): Promise<string> {
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      const lines: string[] = [];
      for await (const { line } of await this.logLines(id, { tail, signal })) lines.push(line);
      return lines.join("\n");
    } catch (error) {
      return `(could not read the container's logs: ${engineMessage(error)})`;
    }
  }

  async exec(id: string, cmd: string[], options: ExecOptions = {}): Promise<ExecResult> {
    const created = await this.dial<{ Id: string }>("POST", `/containers/${id}/exec`, {
      ...(options.signal ? { signal: options.signal } : {}),
      body: {
        Cmd: cmd,
        AttachStdout: true,
        AttachStderr: true,
        AttachStdin: false,
        Tty: false,
        ...(options.env ? { Env: Object.entries(options.env).map(([k, v]) => `${k}=${v}`) } : {}),
        ...(options.workingDir ? { WorkingDir: options.workingDir } : {}),
        ...(options.user ? { User: options.user } : {}),
      },
      statusCodes: { 201: true },
    });
    const { signal } = options;
    const stream = await this.dial<Readable>("POST", `/exec/${created.Id}/start`, {
      body: { Detach: false, Tty: false },
      isStream: true,
      hijack: true,
      statusCodes: { 200: true, 101: true },
      ...(signal ? { signal } : {}),
    });
    // An upgraded connection no longer belongs to its request, so the request's signal cannot close it: do it here.
    const onAbort = () => stream.destroy(signal?.reason instanceof Error ? signal.reason : new Error("exec aborted"));
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      if (signal?.aborted) onAbort();
      const collected = await demuxAll(stream, false);
      const inspect = await this.dial<{ ExitCode: number | null; Running: boolean }>(
        "GET",
        `/exec/${created.Id}/json`,
        signal ? { signal } : {},
      );
      return { ...collected, exitCode: inspect.ExitCode ?? -1 };
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
  }

  /**
   * Creates an exec instance for interactive use (`throwaway exec`): with a TTY and/or stdin attached, unlike
   * {@link exec}, which collects the output of a command. Start it with {@link startExec}; returns its id.
   */
  async createExec(
    id: string,
    cmd: string[],
    options: ExecOptions & { tty: boolean; stdin: boolean; consoleSize?: { rows: number; columns: number } },
  ): Promise<string> {
    const created = await this.dial<{ Id: string }>("POST", `/containers/${id}/exec`, {
      body: {
        Cmd: cmd,
        AttachStdin: options.stdin,
        AttachStdout: true,
        AttachStderr: true,
        Tty: options.tty,
        // API 1.42+ sizes the TTY before the command starts; older engines ignore it and get resizeExec() after.
        ...(options.consoleSize ? { ConsoleSize: [options.consoleSize.rows, options.consoleSize.columns] } : {}),
        ...(options.env ? { Env: Object.entries(options.env).map(([k, v]) => `${k}=${v}`) } : {}),
        ...(options.workingDir ? { WorkingDir: options.workingDir } : {}),
        ...(options.user ? { User: options.user } : {}),
      },
      statusCodes: { 201: true },
    });
    return created.Id;
  }

  /**
   * Starts an exec made by {@link createExec} and returns the connection the engine hands over: what is written to
   * it is the command's stdin (`end()` closes that stdin), what it carries is the output: raw bytes with a TTY,
   * else the multiplexed frames `demux.ts` splits.
   */
  async startExec(execId: string, tty: boolean, consoleSize?: { rows: number; columns: number }): Promise<Duplex> {
    return this.dial("POST", `/exec/${execId}/start`, {
      body: { Detach: false, Tty: tty, ...(consoleSize ? { ConsoleSize: [consoleSize.rows, consoleSize.columns] } : {}) },
      isStream: true,
      hijack: true,
      statusCodes: { 200: true, 101: true },
    });
  }

  /** Sets the size of an exec's TTY (rows and columns), as a terminal resize does. */
  async resizeExec(execId: string, size: { rows: number; columns: number }): Promise<void> {
    await this.dial("POST", `/exec/${execId}/resize`, { query: { h: size.rows, w: size.columns }, statusCodes: { 200: true, 201: true } });
  }

  /** An exec's state: `ExitCode` is `null` while it runs. */
  async inspectExec(execId: string): Promise<{ Running: boolean; ExitCode: number | null; Pid: number }> {
    return this.dial("GET", `/exec/${execId}/json`);
  }

  async putArchive(id: string, path: string, tar: Readable): Promise<void> {
    await this.dial("PUT", `/containers/${id}/archive`, { query: { path }, file: tar, statusCodes: { 200: true } });
  }

  async getArchive(id: string, path: string): Promise<Readable> {
    return this.dial("GET", `/containers/${id}/archive`, { query: { path }, isStream: true });
  }

  /** Attaches to the container's output streams (before start, so nothing printed is missed). */
  async attach(id: string): Promise<Readable> {
    return this.dial("POST", `/containers/${id}/attach`, {
      query: { stream: true, stdout: true, stderr: true, logs: true },
      isStream: true,
      hijack: true,
      statusCodes: { 200: true, 101: true },
    });
  }

  // ---- images -----------------------------------------------------------------------------------------------

  async inspectImage(ref: string): Promise<ImageInspect | undefined> {
    try {
      return await this.dial<ImageInspect>("GET", `/images/${encodeURIComponent(ref)}/json`);
    } catch (error) {
      if (engineStatus(error) === 404) return undefined;
      throw error;
    }
  }

  async listImages(filters: Record<string, string[]>): Promise<ImageSummary[]> {
    return this.dial("GET", "/images/json", { query: { filters: JSON.stringify(filters) } });
  }

  /**
   * Removes (or, for one of several names, untags) an image. An image the engine keeps, because a container uses
   * it or images were built on it (409), is not an error but not a removal either: the result says what was kept
   * and the engine's reason, and a debug line says so.
   */
  async removeImage(ref: string, force = false): Promise<ImageRemoval> {
    try {
      await this.dial("DELETE", `/images/${encodeURIComponent(ref)}`, { query: { force }, statusCodes: { 200: true } });
      return { outcome: "removed" };
    } catch (error) {
      const status = engineStatus(error);
      if (status === 404) return { outcome: "absent" };
      if (status !== 409) throw error;
      const reason = engineMessage(error);
      debug("engine", `kept image ${ref}: the engine refused to remove it (409): ${reason}`);
      return { outcome: "kept", statusCode: 409, reason };
    }
  }

  async tagImage(ref: string, repo: string, tag: string): Promise<void> {
    await this.dial("POST", `/images/${encodeURIComponent(ref)}/tag`, { query: { repo, tag }, statusCodes: { 201: true } });
  }

  /** `docker commit`: a new image from a container's filesystem and config; resolves to the image id. */
  async commitContainer(
    id: string,
    query: { repo?: string; tag?: string; comment?: string; author?: string; changes?: string; pause?: boolean },
  ): Promise<string> {
    const result = await this.dial<{ Id: string }>("POST", "/commit", {
      query: { container: id, ...query },
      body: {},
      statusCodes: { 201: true },
    });
    return result.Id;
  }

  /** Starts a pull and returns the engine's JSON-lines progress stream. */
  async pullStream(
    fromImage: string,
    tag: string,
    options: { platform?: string; auth?: RegistryAuth; signal?: AbortSignal },
  ): Promise<Readable> {
    return this.dial("POST", "/images/create", {
      query: { fromImage, tag, ...(options.platform ? { platform: options.platform } : {}) },
      isStream: true,
      authconfig: options.auth ?? { base64: "e30=" },
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  async pushStream(name: string, tag: string, options: { auth?: RegistryAuth; signal?: AbortSignal }): Promise<Readable> {
    return this.dial("POST", `/images/${encodeURIComponent(name)}/push`, {
      query: { tag },
      isStream: true,
      authconfig: options.auth ?? { base64: "e30=" },
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  async buildStream(
    context: Readable,
    query: Record<string, unknown>,
    registryconfig?: Record<string, RegistryAuth>,
    signal?: AbortSignal,
  ): Promise<Readable> {
    return this.dial("POST", "/build", {
      query,
      file: context,
      isStream: true,
      ...(registryconfig ? { registryconfig } : {}),
      ...(signal ? { signal } : {}),
    });
  }

  // ---- networks and volumes ------------------------------------------------------------------------------------

  async createNetwork(body: Record<string, unknown>): Promise<string> {
    const result = await this.dial<{ Id: string }>("POST", "/networks/create", { body, statusCodes: { 201: true } });
    return result.Id;
  }

  async removeNetwork(id: string): Promise<void> {
    await this.dial("DELETE", `/networks/${id}`, { statusCodes: { 204: true, 404: true } });
  }

  async inspectNetwork(id: string): Promise<NetworkSummary> {
    return this.dial("GET", `/networks/${id}`);
  }

  async connectNetwork(networkId: string, containerId: string, aliases: string[]): Promise<void> {
    await this.dial("POST", `/networks/${networkId}/connect`, {
      body: { Container: containerId, EndpointConfig: { Aliases: aliases } },
      statusCodes: { 200: true },
    });
  }

  /** Detaches a container from a network (`force`: even a stopped one); one that is not attached is no error. */
  async disconnectNetwork(networkId: string, containerId: string): Promise<void> {
    await this.dial("POST", `/networks/${networkId}/disconnect`, {
      body: { Container: containerId, Force: true },
      statusCodes: { 200: true, 404: true },
    });
  }

  async listNetworks(filters: Record<string, string[]>): Promise<NetworkSummary[]> {
    return this.dial("GET", "/networks", { query: { filters: JSON.stringify(filters) } });
  }

  async listVolumes(filters: Record<string, string[]>): Promise<VolumeSummary[]> {
    const result = await this.dial<{ Volumes: VolumeSummary[] | null }>("GET", "/volumes", { query: { filters: JSON.stringify(filters) } });
    return result.Volumes ?? [];
  }

  async removeVolume(name: string): Promise<void> {
    await this.dial("DELETE", `/volumes/${encodeURIComponent(name)}`, {
      query: { force: true },
      statusCodes: { 204: true, 404: true, 409: true },
    });
  }

  /**
   * @internal Throwaway's own error wrapping, kept on the class for its callers; not part of the public API.
   * @see toStartError
   */
  startError(what: string, error: unknown, context: ErrorContext): ContainerStartError | EngineFailure {
    return toStartError(what, error, context);
  }

  /**
   * @internal Throwaway's own error wrapping, kept on the class for its callers; not part of the public API.
   * @see toRequestError
   */
  requestError(what: string, error: unknown, context: ErrorContext = {}): EngineRequestError | EngineFailure {
    return toRequestError(what, error, context);
  }
}

function stripUndefined(query: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(query).filter(([, v]) => v !== undefined));
}

function tlsMaterial(endpoint: Extract<EngineEndpoint, { kind: "tcp" }>): TlsMaterial | undefined {
  if (!endpoint.tls) return undefined;
  const ca = endpoint.tls.ca ? readOptional(endpoint.tls.ca) : undefined;
  const cert = endpoint.tls.cert ? readOptional(endpoint.tls.cert) : undefined;
  const key = endpoint.tls.key ? readOptional(endpoint.tls.key) : undefined;
  return { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}), verify: endpoint.tls.verify };
}

function readOptional(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}
