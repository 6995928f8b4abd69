import { readFileSync } from "node:fs";
import type { Duplex, Readable } from "node:stream";
import type Docker from "dockerode";
import { debug } from "../debug.js";
import { ContainerStartError, EngineRequestError, EngineUnavailableError, type ErrorContext } from "../errors.js";
import { demuxAll, demuxLines, type LogLine } from "./demux.js";
import { containerHost, type EngineEndpoint, endpointUrl, engineCandidates, publishHostIp } from "./discovery.js";
import { jsonLines } from "./json-lines.js";
import { HttpTransport } from "./transport.js";
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
  timeoutMs?: number;
}

interface EngineError extends Error {
  statusCode?: number;
  json?: { message?: string } | string | null;
  reason?: string;
}

/** The text the engine gave for a failed call (its JSON `message`), else the transport error's. */
export function engineMessage(error: unknown): string {
  const e = error as EngineError;
  if (e?.json && typeof e.json === "object" && typeof e.json.message === "string") return e.json.message.trim();
  if (e?.name === "AbortError" || e?.name === "TimeoutError") return e.message;
  if (typeof e?.json === "string" && e.json.trim()) return e.json.trim();
  // docker-modem prefixes "(HTTP code 500) unexpected - "; the engine's own words are what users need.
  return (
    e?.message
      ?.replace(/^\(HTTP code \d+\)\s*/, "")
      .replace(/^[a-z ]+ - /, "")
      .trim() ?? String(error)
  );
}

export function engineStatus(error: unknown): number | undefined {
  return (error as EngineError)?.statusCode;
}

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
  // The Engine API goes over Node's own http (src/engine/transport.ts): dockerode, with its gRPC and SSH stacks,
  // costs ~80 ms and ~28 MiB in every test process. It stays for ssh:// engines and for a client passed in code.
  private readonly docker: Promise<Docker> | undefined;
  private readonly transport: HttpTransport | undefined;
  private infoCache: Promise<{ Architecture: string; OSType: string; ServerVersion: string; OperatingSystem: string }> | undefined;

  constructor(endpoint: EngineEndpoint, docker?: Docker) {
    this.endpoint = endpoint;
    if (docker) this.docker = Promise.resolve(docker);
    else if (endpoint.kind === "ssh") {
      // Only ssh:// needs dockerode's transport (it tunnels through ssh2); loaded when the first call is made.
      this.docker = import("dockerode").then(({ default: Dockerode }) => new Dockerode(dockerodeOptions(endpoint)));
    } else {
      this.transport = new HttpTransport(endpoint, endpoint.kind === "tcp" ? tlsMaterial(endpoint) : undefined);
    }
    this.host = containerHost(endpoint);
    this.publishHostIp = publishHostIp(endpoint);
  }

  /** `unix:///var/run/docker.sock (default socket)`. */
  describe(): string {
    return `${endpointUrl(this.endpoint)} (${this.endpoint.source})`;
  }

  /** True when the engine runs on this machine and shares its process view (containers' pids are ours). */
  isLocal(): boolean {
    return this.endpoint.kind === "unix";
  }

  private dial<T>(method: string, path: string, options: DialOptions = {}): Promise<T> {
    this.apiCalls++;
    debug("engine", `${method} ${path}`);
    const hasQuery = options.query && Object.keys(options.query).length > 0;
    const modemOptions: Record<string, unknown> = {
      path: hasQuery ? `${path}?` : path,
      method,
      options: {
        ...(hasQuery ? { _query: stripUndefined(options.query!) } : {}),
        ...(options.body !== undefined ? { _body: options.body } : {}),
      },
      statusCodes: options.statusCodes ?? { 200: true, 201: true, 204: true, 304: true },
      isStream: options.isStream ?? false,
    };
    if (options.signal) modemOptions.abortSignal = options.signal;
    if (options.hijack) modemOptions.hijack = true;
    if (options.file) modemOptions.file = options.file;
    if (options.authconfig) modemOptions.authconfig = options.authconfig;
    if (options.registryconfig) modemOptions.registryconfig = options.registryconfig;
    if (options.headers) modemOptions.headers = options.headers;
    if (this.transport) {
      return this.transport.request<T>({
        method,
        path,
        ...(hasQuery ? { query: stripUndefined(options.query!) } : {}),
        ...(options.body !== undefined ? { body: options.body } : {}),
        ...(options.file ? { file: options.file } : {}),
        statusCodes: modemOptions.statusCodes as Record<number, boolean | string>,
        isStream: options.isStream ?? false,
        hijack: options.hijack ?? false,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.authconfig ? { authconfig: options.authconfig } : {}),
        ...(options.registryconfig ? { registryconfig: options.registryconfig } : {}),
        ...(options.headers ? { headers: options.headers } : {}),
      });
    }
    return this.docker!.then(
      (docker) =>
        new Promise<T>((resolve, reject) => {
          (docker.modem as unknown as { dial(o: unknown, cb: (err: unknown, data: T) => void): void }).dial(modemOptions, (err, data) =>
            err ? reject(err) : resolve(data),
          );
        }),
    );
  }

  async ping(signal?: AbortSignal): Promise<void> {
    await this.dial("GET", "/_ping", signal ? { signal } : {});
  }

  info(): Promise<{ Architecture: string; OSType: string; ServerVersion: string; OperatingSystem: string }> {
    this.infoCache ??= this.dial("GET", "/info");
    return this.infoCache;
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

  inspectContainer(id: string, signal?: AbortSignal): Promise<ContainerInspect> {
    return this.dial("GET", `/containers/${id}/json`, signal ? { signal } : {});
  }

  /** Resolves with the exit code when the container stops running (a long poll: one call for the whole wait). */
  async waitContainer(id: string, signal?: AbortSignal): Promise<number> {
    const result = await this.dial<{ StatusCode: number }>("POST", `/containers/${id}/wait`, {
      query: { condition: "not-running" },
      ...(signal ? { signal } : {}),
    });
    return result.StatusCode;
  }

  async killContainer(id: string, signal = "SIGKILL"): Promise<void> {
    await this.dial("POST", `/containers/${id}/kill`, { query: { signal }, statusCodes: { 204: true, 409: true } });
  }

  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    await this.dial("POST", `/containers/${id}/stop`, { query: { t: timeoutSeconds }, statusCodes: { 204: true, 304: true } });
  }

  async restartContainer(id: string, timeoutSeconds: number): Promise<void> {
    await this.dial("POST", `/containers/${id}/restart`, { query: { t: timeoutSeconds }, statusCodes: { 204: true } });
  }

  /** Removes a container; a container that is already gone (or being removed) is not an error. */
  async removeContainer(id: string, options: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    try {
      await this.dial("DELETE", `/containers/${id}`, {
        query: { force: options.force ?? true, v: options.volumes ?? true },
        statusCodes: { 204: true, 404: true },
      });
    } catch (error) {
      // Someone else (the exit hooks, the reaper, a parallel stop) is already removing it. Returning now would let
      // the caller remove the container's network while it is still attached: wait until it is really gone.
      if (engineStatus(error) !== 409 || !/already in progress/i.test(engineMessage(error))) throw error;
      await this.dial("POST", `/containers/${id}/wait`, {
        query: { condition: "removed" },
        statusCodes: { 200: true, 404: true },
        signal: AbortSignal.timeout(30_000),
      }).catch(() => {});
    }
  }

  listContainers(filters: Record<string, string[]>, all = true): Promise<ContainerSummary[]> {
    return this.dial("GET", "/containers/json", { query: { all, filters: JSON.stringify(filters) } });
  }

  /** The container's logs as lines, demultiplexed; follows new output until the container stops when `follow`. */
  async logLines(
    id: string,
    options: { follow?: boolean; since?: number; tail?: number; tty?: boolean; signal?: AbortSignal; timestamps?: boolean } = {},
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
   * long-lived call instead of polling. The stream ends when `signal` aborts.
   */
  async events(filters: Record<string, string[]>, signal?: AbortSignal): Promise<AsyncGenerator<EngineEvent>> {
    const stream = await this.dial<Readable>("GET", "/events", {
      query: { filters: JSON.stringify(filters) },
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
  startExec(execId: string, tty: boolean, consoleSize?: { rows: number; columns: number }): Promise<Duplex> {
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
  inspectExec(execId: string): Promise<{ Running: boolean; ExitCode: number | null; Pid: number }> {
    return this.dial("GET", `/exec/${execId}/json`);
  }

  async putArchive(id: string, path: string, tar: Readable): Promise<void> {
    await this.dial("PUT", `/containers/${id}/archive`, { query: { path }, file: tar, statusCodes: { 200: true } });
  }

  getArchive(id: string, path: string): Promise<Readable> {
    return this.dial("GET", `/containers/${id}/archive`, { query: { path }, isStream: true });
  }

  /** Attaches to the container's output streams (before start, so nothing printed is missed). */
  attach(id: string): Promise<Readable> {
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

  listImages(filters: Record<string, string[]>): Promise<ImageSummary[]> {
    return this.dial("GET", "/images/json", { query: { filters: JSON.stringify(filters) } });
  }

  async removeImage(ref: string, force = false): Promise<void> {
    await this.dial("DELETE", `/images/${encodeURIComponent(ref)}`, { query: { force }, statusCodes: { 200: true, 404: true, 409: true } });
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
  pullStream(fromImage: string, tag: string, options: { platform?: string; auth?: RegistryAuth; signal?: AbortSignal }): Promise<Readable> {
    return this.dial("POST", "/images/create", {
      query: { fromImage, tag, ...(options.platform ? { platform: options.platform } : {}) },
      isStream: true,
      authconfig: options.auth ?? { base64: "e30=" },
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  pushStream(name: string, tag: string, options: { auth?: RegistryAuth; signal?: AbortSignal }): Promise<Readable> {
    return this.dial("POST", `/images/${encodeURIComponent(name)}/push`, {
      query: { tag },
      isStream: true,
      authconfig: options.auth ?? { base64: "e30=" },
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  buildStream(
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

  inspectNetwork(id: string): Promise<NetworkSummary> {
    return this.dial("GET", `/networks/${id}`);
  }

  async connectNetwork(networkId: string, containerId: string, aliases: string[]): Promise<void> {
    await this.dial("POST", `/networks/${networkId}/connect`, {
      body: { Container: containerId, EndpointConfig: { Aliases: aliases } },
      statusCodes: { 200: true },
    });
  }

  listNetworks(filters: Record<string, string[]>): Promise<NetworkSummary[]> {
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

  /** Wraps an engine failure in a {@link ContainerStartError} carrying the engine's own text. */
  startError(what: string, error: unknown, context: ErrorContext): ContainerStartError {
    return new ContainerStartError(`${what}: ${engineMessage(error)}`, { ...context, cause: error });
  }

  requestError(what: string, error: unknown, context: ErrorContext = {}): EngineRequestError {
    const status = engineStatus(error);
    return new EngineRequestError(`${what}: ${engineMessage(error)}`, {
      ...context,
      cause: error,
      ...(status ? { statusCode: status } : {}),
    });
  }
}

function stripUndefined(query: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(query).filter(([, v]) => v !== undefined));
}

function dockerodeOptions(endpoint: EngineEndpoint): Docker.DockerOptions {
  switch (endpoint.kind) {
    case "unix":
    case "npipe":
      return { socketPath: endpoint.socketPath };
    case "tcp": {
      if (!endpoint.tls) return { protocol: "http", host: endpoint.host, port: endpoint.port };
      const read = (path: string | undefined) => (path ? readOptional(path) : undefined);
      const ca = read(endpoint.tls.ca);
      const cert = read(endpoint.tls.cert);
      const key = read(endpoint.tls.key);
      return {
        protocol: "https",
        host: endpoint.host,
        port: endpoint.port,
        ...(ca ? { ca } : {}),
        ...(cert ? { cert } : {}),
        ...(key ? { key } : {}),
        ...(endpoint.tls.verify ? {} : { checkServerIdentity: () => undefined }),
      } as Docker.DockerOptions;
    }
    case "ssh":
      return {
        protocol: "ssh",
        host: endpoint.host,
        port: endpoint.port,
        ...(endpoint.username ? { username: endpoint.username } : {}),
        sshOptions: { agent: process.env.SSH_AUTH_SOCK },
      } as Docker.DockerOptions;
  }
}

function tlsMaterial(
  endpoint: Extract<EngineEndpoint, { kind: "tcp" }>,
): { ca?: Buffer; cert?: Buffer; key?: Buffer; verify: boolean } | undefined {
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

let cached: Promise<Engine> | undefined;
let explicit: Engine | undefined;

/**
 * Uses `engine` for everything this process starts from now on (an explicit client passed in code wins over
 * discovery). Pass `undefined` to go back to discovery.
 */
export function setEngine(engine: Engine | undefined): void {
  explicit = engine;
  cached = undefined;
}

/**
 * The engine this process talks to: the first candidate that answers `/_ping`, found once and cached. Sockets that
 * do not exist are not even tried; each ping is bounded so a dead TCP endpoint cannot stall discovery.
 */
export function getEngine(): Promise<Engine> {
  if (explicit) return Promise.resolve(explicit);
  cached ??= discover().catch((error: unknown) => {
    cached = undefined; // An engine may come up later in the process (e.g. a CLI that starts dockerd).
    throw error;
  });
  return cached;
}

async function discover(): Promise<Engine> {
  const attempts: { source: string; endpoint: string; error: string }[] = [];
  const candidates = engineCandidates();
  for (const endpoint of candidates) {
    const engine = new Engine(endpoint);
    try {
      // A missing or refused socket fails at once; the bound only matters for an engine that hangs, and a loaded
      // engine can take seconds to answer, so it is generous.
      await engine.ping(AbortSignal.timeout(15_000));
      debug("engine", `using ${engine.describe()}`);
      return engine;
    } catch (error) {
      attempts.push({ source: endpoint.source, endpoint: endpointUrl(endpoint), error: engineMessage(error) });
    }
  }
  if (candidates.length === 0) {
    attempts.push({ source: "default socket", endpoint: "unix:///var/run/docker.sock", error: "no such file" });
  }
  throw new EngineUnavailableError(attempts);
}
