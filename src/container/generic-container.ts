import { createHash, randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import { env } from "../config.js";
import { channels, debug } from "../debug.js";
import { scaleDuration } from "../duration.js";
import { getEngine } from "../engine/current.js";
import type { LogLine } from "../engine/demux.js";
import type { Engine } from "../engine/engine.js";
import { engineMessage, engineStatus } from "../engine/engine-errors.js";
import { pullImage } from "../engine/pull.js";
import type { ContainerInspect, ProgressListener, RegistryAuth } from "../engine/types.js";
import { ContainerStartError, describeContainer, type ErrorContext, InvalidOptionError, LifecycleHookError } from "../errors.js";
import { DockerfileBuilder, type DockerfileBuildOptions } from "../image/build.js";
import { type ContainerFactory, registerContainerFactory } from "../image/container-factory.js";
import { substituteImage } from "../image/substitution.js";
import { LABELS } from "../labels.js";
import { prepareSession } from "../reaper/index.js";
import { sessionLabels } from "../reaper/session.js";
import { trackResource, untrackResource } from "../reaper/tracker.js";
import { HealthCheckWaitStrategy } from "../wait/health-check.js";
import { ListeningPortsWaitStrategy } from "../wait/listening-ports.js";
import type { WaitStrategy } from "../wait/strategy.js";
import { type CopyItem, type CopyOwner, hashCopyItems, putCopyItems } from "./copy.js";
import { refuseUnsupported } from "./engine-limits.js";
import { LogTee } from "./log-tee.js";
import { type ModuleDefaults, mergeModuleDefaults } from "./module-defaults.js";
import {
  type BindMount,
  createBody,
  emptyRawOptions,
  type HealthCheck,
  type NetworkRef,
  type NormalizedOptions,
  normalizeContainerOptions,
  type PortSpec,
  type PullPolicy,
  type RawContainerOptions,
  type Resources,
  type Ulimit,
} from "./options.js";
import { unboundPorts } from "./ports.js";
import { awaitStartedElsewhere, findReusable, REUSE_ATTEMPTS, vanished } from "./reuse.js";
import { betweenStopAndStart, type ContainerHandleState, StartedContainer } from "./started-container.js";
import { acquireCaptureLock, commitWarmImage, releaseCaptureLock, touchWarmImage, type WarmEntry, warmEntry } from "./warm-start.js";

/** The default startup timeout: 60 s, multiplied by `THROWAWAY_STARTUP_TIMEOUT_SCALE`. */
export const DEFAULT_STARTUP_TIMEOUT_MS = 60_000;

/** Image ids that containers built from a Dockerfile are created from; see {@link runImageById}. */
const pinnedImageIds = new WeakMap<GenericContainer, string>();

/**
 * Makes `container` create its containers from image `id` (`sha256:...`), while messages and `getImage()` keep
 * naming the image by its reference. For built images: a tag is shared state another process may move or delete
 * (two workers building the same Dockerfile, one of them tearing down), an id is not. Such a container is never
 * pulled (an id cannot be) and skips image substitution.
 */
export function runImageById<T extends GenericContainer>(container: T, id: string): T {
  pinnedImageIds.set(container, id);
  return container;
}

/**
 * The containers a built image hands out: run by id, so another process moving or deleting the tag (two workers
 * building the same Dockerfile, one of them tearing down) cannot change what they run.
 */
const builtImageContainer: ContainerFactory = (name, id) => runImageById(new GenericContainer(name), id);
registerContainerFactory(builtImageContainer);

declare module "../image/container-factory.js" {
  /** Built images hand out `GenericContainer`s: their public signatures name this type. */
  interface BuildContainerTypes {
    container: GenericContainer;
  }
}

/**
 * How a definition's initialised state is captured for warm starts; what `GenericContainer.warmStartProfile()`
 * returns. The default commits the running container, paused, at its ready point.
 */
export interface WarmStartProfile {
  /** The version of the module's init procedure: change it when initialisation changes, and old cache images stop matching. */
  version: string;
  /**
   * Stop the container cleanly (its stop signal, then the grace period) before committing, then start it again for
   * the caller: for servers whose files are only consistent after a clean shutdown (databases). Default `false`.
   */
  cleanStop?: boolean;
  /**
   * With `cleanStop`: milliseconds the server gets to shut down after its stop signal before it is killed (a killed
   * server's files are what the capture must avoid). Default 60000.
   */
  cleanStopTimeoutMs?: number;
  /** Runs on the ready container just before the capture, e.g. to delete per-instance identity files. */
  beforeCapture?: (started: StartedContainer) => Promise<void>;
}

/** A create from a cache image the engine does not have (deleted, never captured): the start goes cold. */
class WarmCacheMiss extends Error {}

export interface StartOptions {
  /** Receives pull progress when the image has to be pulled. */
  onProgress?: ProgressListener;
  /** Registry credentials for the pull; default: looked up like the docker CLI does. */
  auth?: RegistryAuth;
}

export interface OneShotResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  output: string;
}

/**
 * Describes a container to start, as `docker run` flags do. Every `with*` call records its value raw and returns
 * `this`; all values are checked once, at {@link start}, which throws {@link InvalidOptionError} for the first bad
 * one before anything is created on the engine.
 */
export class GenericContainer<Started extends StartedContainer = StartedContainer> {
  protected readonly raw: RawContainerOptions;
  private logConsumer: ((line: LogLine) => void) | undefined;

  /** @param image `NAME[:TAG|@DIGEST]` with an optional registry, e.g. `mysql:5.7`. */
  constructor(image: string) {
    this.raw = emptyRawOptions(image);
  }

  /**
   * Builds an image from a Dockerfile (`docker build`): `await GenericContainer.fromDockerfile("./app").build()`
   * resolves to a GenericContainer for it. `options` is the Dockerfile path or {@link DockerfileBuildOptions}.
   */
  static fromDockerfile(context: string, options?: string | DockerfileBuildOptions): DockerfileBuilder {
    return new DockerfileBuilder(context, options, builtImageContainer);
  }

  /** Ports to publish, each on a random free host port unless given as `{ container, host }`. */
  withExposedPorts(...ports: PortSpec[]): this {
    this.raw.exposedPorts.push(...ports);
    return this;
  }

  /** Environment variables, merged over earlier calls. */
  withEnvironment(environment: Record<string, string | number | boolean>): this {
    Object.assign(this.raw.env, environment);
    return this;
  }

  /** The command (`CMD`), one array item per argument. */
  withCommand(command: string[]): this {
    this.raw.command = command;
    return this;
  }

  /** The entrypoint, one array item per argument. */
  withEntrypoint(entrypoint: string[]): this {
    this.raw.entrypoint = entrypoint;
    return this;
  }

  /** A fixed container name. Default: the engine picks one (names must be unique per engine). */
  withName(name: string): this {
    this.raw.name = name;
    return this;
  }

  /** Labels, merged over earlier calls. Keys under `dev.throwaway.` are reserved. */
  withLabels(labels: Record<string, string>): this {
    Object.assign(this.raw.labels, labels);
    return this;
  }

  withWorkingDir(dir: string): this {
    this.raw.workingDir = dir;
    return this;
  }

  /** `user`, `uid`, `user:group` or `uid:gid`. */
  withUser(user: string): this {
    this.raw.user = user;
    return this;
  }

  withHostname(hostname: string): this {
    this.raw.hostname = hostname;
    return this;
  }

  /** Joins a user-defined network (a `StartedNetwork`); call again to join more. */
  withNetwork(network: NetworkRef): this {
    this.raw.networks.push(network);
    return this;
  }

  /** `bridge`, `host`, `none`, `container:<id>` or a network name. */
  withNetworkMode(mode: string): this {
    this.raw.networkMode = mode;
    return this;
  }

  /** Names other containers on the same network reach this one by. */
  withNetworkAliases(...aliases: string[]): this {
    this.raw.networkAliases.push(...aliases);
    return this;
  }

  /** Host paths mounted into the container; sources must be absolute. Appends to earlier calls. */
  withBindMounts(mounts: BindMount[]): this {
    this.raw.bindMounts.push(...mounts);
    return this;
  }

  /** tmpfs mounts: `{ "/var/lib/mysql": "rw,size=256m" }`. */
  withTmpFs(mounts: Record<string, string>): this {
    Object.assign(this.raw.tmpfs, mounts);
    return this;
  }

  /**
   * Host files copied in before start. `mode` (e.g. `0o755`) defaults to the file's own; `uid`/`gid` to root. A
   * symlinked `source` is followed (its content is copied, as `docker cp -L` does). A source that cannot be copied is
   * an {@link InvalidOptionError} naming its path.
   */
  withCopyFilesToContainer(files: ({ source: string; target: string; mode?: number } & CopyOwner)[]): this {
    this.raw.copies.push(...files.map((f) => ({ kind: "file" as const, ...f })));
    return this;
  }

  /**
   * Host directories copied in (recursively, modes and symlinks kept) before start; `uid`/`gid` apply to all. A
   * symlinked `source` is followed; links inside it stay links. `mode` (default: each entry's own) applies to
   * everything copied: files get it as given, folders get it plus the search bit wherever it grants read (`0o640`:
   * files `640`, folders `750`), so they stay traversable. A FIFO, socket or device inside is an
   * {@link InvalidOptionError} naming its path.
   */
  withCopyDirectoriesToContainer(dirs: ({ source: string; target: string; mode?: number } & CopyOwner)[]): this {
    this.raw.copies.push(...dirs.map((d) => ({ kind: "directory" as const, ...d })));
    return this;
  }

  /** Strings or Buffers written as files before start. `mode` defaults to `0o644`, `uid`/`gid` to root. */
  withCopyContentToContainer(contents: ({ content: string | Buffer; target: string; mode?: number } & CopyOwner)[]): this {
    this.raw.copies.push(...contents.map((c) => ({ kind: "content" as const, ...c })));
    return this;
  }

  /**
   * Tar archives extracted before start into `target`, a directory that exists in the image (as `docker cp - DIR`
   * does): entries keep their own modes and owners. A Readable serves one start only; a Buffer any number.
   */
  withCopyArchivesToContainer(archives: { tar: Buffer | Readable; target: string }[]): this {
    this.raw.archives.push(...archives);
    return this;
  }

  /** A Docker HEALTHCHECK; the default wait then becomes "healthy". Durations in ms. */
  withHealthCheck(check: HealthCheck): this {
    this.raw.healthCheck = check;
    return this;
  }

  /** Memory (bytes) and CPU (CPUs) limits. */
  withResources(resources: Resources): this {
    this.raw.resources = resources;
    return this;
  }

  /** Size of `/dev/shm` in bytes. Default: the engine's (64 MiB). */
  withSharedMemorySize(bytes: number): this {
    this.raw.shmSizeBytes = bytes;
    return this;
  }

  /** Extra `/etc/hosts` entries; `ipAddress` may be `host-gateway`. */
  withExtraHosts(hosts: { host: string; ipAddress: string }[]): this {
    this.raw.extraHosts.push(...hosts);
    return this;
  }

  withAddedCapabilities(...capabilities: string[]): this {
    this.raw.capAdd.push(...capabilities);
    return this;
  }

  withDroppedCapabilities(...capabilities: string[]): this {
    this.raw.capDrop.push(...capabilities);
    return this;
  }

  /** Runs the container privileged. Off unless asked: it gives the container the host's devices. */
  withPrivilegedMode(privileged = true): this {
    this.raw.privileged = privileged;
    return this;
  }

  /** Resource limits (`docker run --ulimit`), merged over earlier calls: `{ nofile: { soft: 1024, hard: 4096 } }`. */
  withUlimits(ulimits: Record<string, Ulimit>): this {
    Object.assign(this.raw.ulimits, ulimits);
    return this;
  }

  /** Security options (`docker run --security-opt`), e.g. `no-new-privileges`, `seccomp=unconfined`. Appends. */
  withSecurityOpt(...options: string[]): this {
    this.raw.securityOpt.push(...options);
    return this;
  }

  /** The IPC namespace: `private`, `shareable`, `host`, `none` or `container:<name|id>`. Default: the engine's. */
  withIpcMode(mode: string): this {
    this.raw.ipcMode = mode;
    return this;
  }

  /**
   * Logs with the `json-file` driver whatever the engine's default is, so `logs()` and log waits can read them (an
   * engine configured for e.g. `syslog` or `none` cannot hand logs back).
   */
  withDefaultLogDriver(): this {
    this.raw.defaultLogDriver = true;
    return this;
  }

  /**
   * What `stop()` does when not told (`stop({ remove })` still wins): `true` (the default) removes the container,
   * `false` leaves it stopped for inspection, until `StoppedContainer.remove()` or the end of the session.
   */
  withAutoRemove(remove = true): this {
    this.raw.autoRemove = remove;
    return this;
  }

  /** `os/arch[/variant]` to pull and run, e.g. `linux/amd64` for amd64-only images on arm64 hosts. */
  withPlatform(platform: string): this {
    this.raw.platform = platform;
    return this;
  }

  /** `missing` (default): pull only when the engine lacks the image; `always`: pull on every start. */
  withPullPolicy(policy: PullPolicy): this {
    this.raw.pullPolicy = policy;
    return this;
  }

  /**
   * Milliseconds from start until the wait strategy must succeed. Default 60000, multiplied by
   * `THROWAWAY_STARTUP_TIMEOUT_SCALE`. A strategy's own `withStartupTimeout` wins over this.
   */
  withStartupTimeout(ms: number): this {
    this.raw.startupTimeoutMs = ms;
    return this;
  }

  /** How to tell the service is ready. Default: the image's HEALTHCHECK if any, else listening ports. */
  withWaitStrategy(strategy: WaitStrategy): this {
    this.raw.waitStrategy = strategy;
    return this;
  }

  /**
   * Receives every log line from start on (stdout and stderr), e.g. to print them. With a log wait, the consumer has
   * every line up to the one that made the container ready by the time `start()` resolves (they share one stream).
   */
  withLogConsumer(consumer: (line: LogLine) => void): this {
    this.logConsumer = consumer;
    return this;
  }

  /**
   * Reuses a running container with the exact same configuration (across processes: keyed by a hash of the whole
   * configuration, made safe by the engine's unique names). Reused containers are never reaped and `stop()` leaves
   * them running. Off by default; `THROWAWAY_REUSE=false` turns it off everywhere (e.g. in CI).
   */
  withReuse(reuse = true): this {
    this.raw.reuse = reuse;
    return this;
  }

  /**
   * Warm starts: the first start of this definition runs as usual; once it is ready (its wait passed and, for
   * modules, their own initialisation finished) its state is committed to a local cache image addressed by
   * everything that can change that state (the base image's id, env, command, entrypoint, user, mounts, the copied
   * files' content, the platform, the module's init version). Later starts of the same definition, in any process,
   * run from that image and skip initialisation. Capture happens before `start()` resolves, so nothing the caller
   * does reaches the cache. A missing or broken cache image means a cold start (and a debug line), never a failure.
   * Cache images are kept across runs: `throwaway ps` lists them, `throwaway prune --cache` removes them.
   * Off by default (MySqlContainer: see its README); ignored with {@link withReuse}; `THROWAWAY_WARM_START=false`
   * turns it off everywhere.
   */
  withWarmStart(warm = true): this {
    this.raw.warmStart = warm;
    return this;
  }

  /**
   * Module hook: how {@link withWarmStart} captures this module's initialised state. The default commits the
   * running container (paused) at its ready point, with version `""`.
   */
  protected warmStartProfile(_defaults: ModuleDefaults): WarmStartProfile {
    return { version: "" };
  }

  /**
   * Edits the raw Engine API create body (`Config` with `HostConfig` and `NetworkingConfig`) before it is sent: the
   * escape hatch for anything no `with*` method covers. Calls chain in order.
   */
  withCreateOptions(modify: (body: Record<string, unknown>) => void): this {
    this.raw.createModifiers.push(modify);
    return this;
  }

  /**
   * Module hook: the defaults this start adds to what the user recorded (env, ports, copies, wait, timeout, ...). They
   * are merged under the user's options into a copy made for this start; the builder itself is never changed, so
   * two concurrent `start()` calls cannot interleave and an explicit user option always wins. Runs once per start,
   * before validation; may read (never write) `this.raw` and may be async (e.g. to build an image).
   */
  protected moduleDefaults(): ModuleDefaults | Promise<ModuleDefaults> {
    return {};
  }

  /**
   * Module hook: wraps a started container in the module's own started type (a subclass of
   * {@link StartedContainer}, which already delegates everything else). `defaults` is what {@link moduleDefaults}
   * returned for this start. Modules that override it declare the type as `extends GenericContainer<TheirStarted>`.
   */
  protected createStarted(state: ContainerHandleState, _defaults: ModuleDefaults): Started {
    return new StartedContainer(state) as Started;
  }

  /** Lifecycle hook: runs first in every `start()`, before anything is created or reused. */
  protected beforeContainerCreated(): void | Promise<void> {}

  /** Lifecycle hook: runs once the container is created (and files are copied in), before it starts; not on reuse. */
  protected containerCreated(_containerId: string): void | Promise<void> {}

  /** Lifecycle hook: runs once the container runs and is inspected, before the wait strategy; `reused` on reuse. */
  protected containerStarting(_inspect: ContainerInspect, _reused: boolean): void | Promise<void> {}

  /** Lifecycle hook: runs once the wait strategy succeeded, with the handle `start()` resolves to. */
  protected containerStarted(_container: Started, _reused: boolean): void | Promise<void> {}

  /**
   * Starts the container and resolves when its wait strategy says it is ready. The lifecycle hooks run in order
   * (`beforeContainerCreated`, `containerCreated`, `containerStarting`, `containerStarted`); one that throws fails the
   * start with a {@link LifecycleHookError} naming it, after removing the container this start created.
   */
  async start(options: StartOptions = {}): Promise<Started> {
    await this.runHook("beforeContainerCreated", () => this.beforeContainerCreated());
    const { normalized, defaults } = await this.prepare();
    return this.startContainer(normalized, defaults, options);
  }

  /** One start's options: the module defaults merged under a copy of the user's, validated once. */
  private async prepare(): Promise<{ normalized: NormalizedOptions; defaults: ModuleDefaults }> {
    const defaults = await this.moduleDefaults();
    const normalized = resolveImage(normalizeContainerOptions(mergeModuleDefaults(this.raw, defaults)), pinnedImageIds.has(this));
    if (normalized.reuse && !env.reuseEnabled()) {
      debug("reuse", "withReuse() ignored: THROWAWAY_REUSE=false");
      normalized.reuse = false;
    }
    if (normalized.warmStart && (normalized.reuse || !env.warmStartEnabled())) {
      debug(
        "warm",
        `withWarmStart() ignored: ${normalized.reuse ? "withReuse() keeps the container itself" : "THROWAWAY_WARM_START=false"}`,
      );
      normalized.warmStart = false;
    }
    return { normalized, defaults };
  }

  /** Runs one lifecycle hook; what it throws becomes a {@link LifecycleHookError} naming it. */
  private async runHook(hook: string, run: () => void | Promise<void>, context: ErrorContext = {}): Promise<void> {
    try {
      await run();
    } catch (error) {
      const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
      throw new LifecycleHookError(`${this.constructor.name}.${hook}() threw: ${reason}`, { ...context, hook, cause: error });
    }
  }

  /**
   * Runs the container to completion (`docker run IMAGE CMD` without `-d`) and removes it; resolves with its exit
   * code and output. A non-zero exit code is returned, not thrown.
   */
  async run(options: StartOptions = {}): Promise<OneShotResult> {
    const { normalized } = await this.prepare();
    const engine = await getEngine();
    const body = createBody(normalized, this.imageToRun(normalized), engine.publishHostIp, {});
    const { id, image } = await this.create(engine, normalized, body, options, {});
    try {
      await engine.startContainer(id);
      const exitCode = await engine.waitContainer(id);
      const chunks: string[] = [];
      const out: string[] = [];
      const err: string[] = [];
      for await (const { stream, line } of await engine.logLines(id, { tty: false })) {
        chunks.push(line);
        (stream === "stderr" ? err : out).push(line);
      }
      const join = (lines: string[]) => (lines.length ? `${lines.join("\n")}\n` : "");
      return { exitCode, stdout: join(out), stderr: join(err), output: join(chunks) };
    } catch (error) {
      throw engine.startError(`Running ${image} failed`, error, { image, containerId: id });
    } finally {
      await engine.removeContainer(id, { force: true, volumes: true }).catch(() => {});
      untrackResource("container", id);
    }
  }

  /**
   * Creates the container (pulling the image when missing), copies files in; returns its id. `baseBody` is the
   * create body as built (and edited by `withCreateOptions`) once per start; session and `extraLabels` are added
   * here, after the user's edits, so no edit can drop the labels the reaper relies on.
   */
  private async create(
    engine: Engine,
    normalized: NormalizedOptions,
    baseBody: Record<string, unknown>,
    options: StartOptions,
    extraLabels: Record<string, string>,
    fromCache = false,
  ): Promise<{ id: string; image: string }> {
    const imageName = normalized.image;
    const image = imageName.toString();
    const pinnedId = fromCache ? String(baseBody.Image) : pinnedImageIds.get(this);
    refuseUnsupported(engine, normalized, { image });
    const pull = () =>
      pullImage(engine, imageName, {
        timeoutMs: env.pullTimeoutMs(),
        ...(normalized.platform ? { platform: normalized.platform } : {}),
        ...(options.auth ? { auth: options.auth } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      });
    if (normalized.pullPolicy === "always" && !pinnedId) await pull();
    const userLabels = (baseBody.Labels ?? {}) as Record<string, string>;
    const body = { ...baseBody, Labels: { ...userLabels, ...sessionLabels(), ...extraLabels } };
    const query = {
      ...(normalized.name ? { name: normalized.name } : {}),
      ...(normalized.platform ? { platform: normalized.platform } : {}),
    };
    let id: string;
    try {
      // Create first and pull only when the engine says the image is missing: one call saved on every warm start.
      id = await engine.createContainer(body, query);
    } catch (error) {
      if (fromCache && engineStatus(error) === 404) throw new WarmCacheMiss();
      // A 404 on create is the engine saying the image is missing (Docker and Podman alike; `engineStatus` reads it
      // from the transport's typed EngineHttpError): pull it, then create.
      if (pinnedId || engineStatus(error) !== 404) {
        throw engine.startError(`Creating a container from ${image} failed`, error, {
          image,
          ...(normalized.name ? { containerName: normalized.name } : {}),
        });
      }
      await pull();
      try {
        id = await engine.createContainer(body, query);
      } catch (retryError) {
        throw engine.startError(`Creating a container from ${image} failed`, retryError, { image });
      }
    }
    if (!extraLabels[LABELS.keep]) trackResource(engine, "container", id);
    channels.containerCreated.publish({ id, image });
    try {
      for (const network of normalized.networks.slice(1)) {
        await engine.connectNetwork(network.getName(), id, normalized.networkAliases);
      }
      if (normalized.copies.length > 0) await putCopyItems(engine, id, normalized.copies, "builder");
      for (const { tar, target } of normalized.archives) {
        await engine.putArchive(id, target, Buffer.isBuffer(tar) ? Readable.from([tar]) : tar);
      }
    } catch (error) {
      await this.discard(engine, id);
      if (error instanceof InvalidOptionError) throw error; // a source that cannot be copied: the user's to fix
      throw engine.startError(`Preparing the container from ${image} failed`, error, { image, containerId: id });
    }
    return { id, image };
  }

  /** What the create body names: the built image's id when pinned, else the (substituted) reference. */
  private imageToRun(normalized: NormalizedOptions): string {
    return pinnedImageIds.get(this) ?? normalized.image.toString();
  }

  /** Removes a container this start gave up on; false when that failed (it then stays tracked for the exit hooks). */
  private async discard(engine: Engine, id: string): Promise<boolean> {
    try {
      await engine.removeContainer(id, { force: true, volumes: true });
    } catch (error) {
      debug(`container ${id.slice(0, 12)}`, `could not remove it: ${engineMessage(error)}`);
      return false;
    }
    untrackResource("container", id);
    return true;
  }

  /** The whole start: create (or reuse), start, wait, with the lifecycle hooks in between. */
  private async startContainer(normalized: NormalizedOptions, defaults: ModuleDefaults, options: StartOptions): Promise<Started> {
    const timeoutMs = scaleDuration(normalized.startupTimeoutMs ?? DEFAULT_STARTUP_TIMEOUT_MS, env.startupTimeoutScale());
    const engine = await getEngine();
    // The reaper starts beside the container, not before it: it is off the critical path.
    prepareSession(engine);
    const started = Date.now();
    const attach = (id: string, reused: boolean, createdHere: boolean) =>
      this.attach(engine, id, normalized, defaults, timeoutMs, reused, started, createdHere);

    // Built once: `withCreateOptions` callbacks are user code, run once per start (the hash and the create share it).
    const body = createBody(normalized, this.imageToRun(normalized), engine.publishHostIp, {});
    if (normalized.reuse) return this.startReusable(engine, normalized, body, options, timeoutMs, started, attach);
    if (normalized.warmStart) return this.startWarm(engine, normalized, defaults, body, options, attach);
    const { id } = await this.create(engine, normalized, body, options, {});
    await this.startCreated(engine, normalized, id);
    return attach(id, false, true);
  }

  /**
   * A warm start: from the definition's cache image when the engine has it, else cold, capturing the ready state
   * for the next start when this process wins the capture lock (see `warm-start.ts`).
   */
  private async startWarm(
    engine: Engine,
    normalized: NormalizedOptions,
    defaults: ModuleDefaults,
    body: Record<string, unknown>,
    options: StartOptions,
    attach: (id: string, reused: boolean, createdHere: boolean) => Promise<Started>,
  ): Promise<Started> {
    // `baseImageId` has already pulled for `pullPolicy: "always"`: the cold create must not pull a second time.
    const coldOptions: NormalizedOptions = normalized.pullPolicy === "always" ? { ...normalized, pullPolicy: "missing" } : normalized;
    const cold = async () => {
      const { id } = await this.create(engine, coldOptions, body, options, {});
      await this.startCreated(engine, coldOptions, id);
      return attach(id, false, true);
    };
    const profile = this.warmStartProfile(defaults);
    const baseId = await this.baseImageId(engine, normalized, options);
    const entry = baseId ? await warmEntry(baseId, normalized, body, profile.version) : undefined;
    if (!baseId || !entry) {
      debug(
        "warm",
        `${normalized.image}: no cache address (${baseId ? "an archive given as a stream" : "image id unknown"}); starting cold`,
      );
      return cold();
    }
    const warm = await this.startFromCache(engine, normalized, body, entry, attach);
    if (warm) return warm;
    const lock = await acquireCaptureLock(engine, entry, baseId);
    if (!lock) return cold();
    let handle: Started;
    try {
      // Another process may have captured it between our miss and our lock.
      if (await engine.inspectImage(entry.ref).catch(() => undefined)) {
        await releaseCaptureLock(engine, lock);
        return (await this.startFromCache(engine, normalized, body, entry, attach)) ?? (await cold());
      }
      handle = await cold();
    } catch (error) {
      await releaseCaptureLock(engine, lock);
      throw error;
    }
    try {
      await this.captureWarm(engine, handle, entry, profile);
    } finally {
      await releaseCaptureLock(engine, lock);
    }
    return handle;
  }

  /** The id of the image the definition runs (pulled first when missing, as a cold start would). */
  private async baseImageId(engine: Engine, normalized: NormalizedOptions, options: StartOptions): Promise<string | undefined> {
    const pinned = pinnedImageIds.get(this);
    if (pinned) return pinned;
    const image = normalized.image.toString();
    if (normalized.pullPolicy !== "always") {
      const found = await engine.inspectImage(image);
      if (found) return found.Id;
    }
    await pullImage(engine, normalized.image, {
      timeoutMs: env.pullTimeoutMs(),
      ...(normalized.platform ? { platform: normalized.platform } : {}),
      ...(options.auth ? { auth: options.auth } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    return (await engine.inspectImage(image))?.Id;
  }

  /**
   * Starts from the cache image, without copying anything in (the image has the copies already). `undefined` when
   * the engine lacks the image or the container does not become ready from it: the caller then starts cold.
   */
  private async startFromCache(
    engine: Engine,
    normalized: NormalizedOptions,
    body: Record<string, unknown>,
    entry: WarmEntry,
    attach: (id: string, reused: boolean, createdHere: boolean) => Promise<Started>,
  ): Promise<Started | undefined> {
    // The cache image is labelled kept; the containers made from it are ordinary session containers.
    const labels = { ...((body.Labels ?? {}) as Record<string, string>), [LABELS.keep]: "false" };
    const fromCache = { ...normalized, copies: [], archives: [] };
    let id: string;
    try {
      ({ id } = await this.create(engine, fromCache, { ...body, Image: entry.ref, Labels: labels }, {}, {}, true));
    } catch (error) {
      if (!(error instanceof WarmCacheMiss)) throw error;
      debug("warm", `${entry.ref}: not in the cache; starting cold`);
      return undefined;
    }
    try {
      await Promise.all([this.startCreated(engine, normalized, id), touchWarmImage(engine, entry)]);
      const handle = await attach(id, false, true);
      debug("warm", `${normalized.image} started warm from ${entry.ref}`);
      return handle;
    } catch (error) {
      if (error instanceof LifecycleHookError) throw error;
      const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
      debug("warm", `${entry.ref}: the warm start failed (${reason}); starting cold`);
      return undefined;
    }
  }

  /**
   * Captures the ready container as the cache image. A failed capture costs later starts their warmth, never this
   * one its container: it is logged and swallowed, and a clean-stop capture always starts the container again.
   */
  private async captureWarm(engine: Engine, handle: Started, entry: WarmEntry, profile: WarmStartProfile): Promise<void> {
    const began = Date.now();
    let failure: unknown;
    const commit = async () => {
      try {
        await commitWarmImage(engine, handle.getId(), entry, !profile.cleanStop);
      } catch (error) {
        failure = error;
      }
    };
    try {
      await profile.beforeCapture?.(handle);
    } catch (error) {
      debug("warm", `${entry.ref}: preparing the capture failed, not capturing: ${engineMessage(error)}`);
      return;
    }
    if (profile.cleanStop) {
      betweenStopAndStart.set(handle, commit);
      try {
        // Containers are killed at once by default; a capture must let the server finish its shutdown.
        await handle.restart({ timeoutMs: profile.cleanStopTimeoutMs ?? 60_000 });
      } catch (error) {
        await handle.stop().catch(() => {});
        throw error;
      } finally {
        betweenStopAndStart.delete(handle);
      }
    } else {
      await commit();
    }
    if (failure) debug("warm", `${entry.ref}: capture failed, later starts stay cold: ${engineMessage(failure)}`);
    else debug("warm", `${entry.ref}: captured in ${Date.now() - began} ms`);
  }

  /** Runs `containerCreated` and starts a container this call created; removes it when either fails. */
  private async startCreated(engine: Engine, normalized: NormalizedOptions, id: string): Promise<void> {
    const image = normalized.image.toString();
    try {
      await this.runHook("containerCreated", () => this.containerCreated(id), { image, containerId: id });
      await engine.startContainer(id);
    } catch (error) {
      await this.discard(engine, id);
      if (error instanceof LifecycleHookError) throw error;
      throw engine.startError(`Starting ${describeContainer({ containerId: id, image })} failed`, error, { image, containerId: id });
    }
  }

  /**
   * Uses the container of this configuration's reuse hash, or creates it. Several processes may race for it: the
   * engine's unique names pick one creator (the others' create is refused with 409); the others use its container
   * once its creator has started it. The creator removes it when it never becomes ready, so a process can lose the
   * container under it (a 404, or a 409 "marked for removal"): it then goes around again, and (as the creator, this
   * time) gets the container's own failure rather than the engine's words about a container it never made.
   */
  private async startReusable(
    engine: Engine,
    normalized: NormalizedOptions,
    body: Record<string, unknown>,
    options: StartOptions,
    timeoutMs: number,
    started: number,
    attach: (id: string, reused: boolean, createdHere: boolean) => Promise<Started>,
  ): Promise<Started> {
    const hash = await reuseHash(normalized, body);
    const labels = { [LABELS.reuseHash]: hash, [LABELS.keep]: "true" };
    const name = (normalized.name ??= `throwaway-reuse-${hash.slice(0, 16)}`);
    const deadline = started + timeoutMs;
    let candidate = await findReusable(engine, hash);
    for (let attempt = 1; ; attempt++) {
      let conflict: ContainerStartError | undefined;
      if (!candidate) {
        let id: string | undefined;
        try {
          ({ id } = await this.create(engine, normalized, body, options, labels));
        } catch (error) {
          if (!(error instanceof ContainerStartError) || engineStatus(error.cause) !== 409) throw error;
          conflict = error; // another process holds the name: its container, once started
        }
        if (id) {
          await this.startCreated(engine, normalized, id);
          return attach(id, true, true);
        }
        candidate = { id: name, state: "unknown" };
      }
      const settled = ["running", "exited"].includes(candidate.state)
        ? ({ kind: "ready", id: candidate.id } as const)
        : await awaitStartedElsewhere(engine, candidate.id, hash, deadline);
      candidate = undefined;
      // The name is taken by a container that is not this configuration's (a fixed name): the engine's refusal stands.
      if (settled.kind === "foreign") {
        throw conflict ?? new ContainerStartError(`The name ${name} is taken by another container`, { containerName: name });
      }
      if (settled.kind === "ready") {
        debug(`container ${settled.id.slice(0, 12)}`, `reusing for hash ${hash.slice(0, 12)}`);
        try {
          return await attach(settled.id, true, false);
        } catch (error) {
          if (attempt >= REUSE_ATTEMPTS || !(await vanished(engine, settled.id))) throw error;
        }
      } else if (attempt >= REUSE_ATTEMPTS) {
        throw new ContainerStartError(
          `The reusable container ${name} was removed by the processes that created it, ${attempt} times in a row: start it alone to see why it fails`,
          { image: normalized.image.toString(), containerName: name },
        );
      }
      debug(`container ${name}`, "the reusable container went away under this start (its creator removed it): trying again");
    }
  }

  /**
   * Inspects a started container, picks the wait strategy, runs `containerStarting`, waits, wraps the handle and runs
   * `containerStarted`; removes the container this start created when any of that fails.
   */
  private async attach(
    engine: Engine,
    id: string,
    normalized: NormalizedOptions,
    defaults: ModuleDefaults,
    timeoutMs: number,
    reused: boolean,
    started: number,
    createdHere: boolean,
  ): Promise<Started> {
    const image = normalized.image.toString();
    let inspect = await engine.inspectContainer(id);
    if (reused && !inspect.State.Running) {
      await engine.startContainer(id);
      inspect = await engine.inspectContainer(id);
    }
    const declaredPorts = normalized.ports.map((p) => `${p.container}/${p.protocol}`);
    inspect = await awaitPortBindings(engine, inspect, declaredPorts, started + timeoutMs);
    const waitStrategy = normalized.waitStrategy ?? defaultWaitStrategy(normalized, inspect.Config.Healthcheck?.Test);
    const state: ContainerHandleState = {
      engine,
      id,
      name: inspect.Name.replace(/^\//, ""),
      image,
      inspect,
      waitStrategy,
      startupTimeoutMs: timeoutMs,
      reused,
      declaredPorts,
      autoRemove: normalized.autoRemove,
    };
    const context = { image, containerId: id, containerName: state.name };
    const hookReused = !createdHere;
    const tee = this.logConsumer ? followLogs(engine, id, inspect.Config.Tty, this.logConsumer) : undefined;
    let handle: Started;
    try {
      await this.runHook("containerStarting", () => this.containerStarting(inspect, hookReused), context);
      handle = this.createStarted(state, defaults);
      await handle.waitUntilReady(0, tee ? (signal) => tee.lines(signal) : undefined).finally(() => tee?.endReplay());
      await this.runHook("containerStarted", () => this.containerStarted(handle, hookReused), context);
    } catch (error) {
      // Someone else's reusable container is theirs to keep; one this call created (reusable or not) never became
      // usable, and a reusable one is never reaped (it is kept), so it must go now.
      if (!createdHere) throw error;
      const keep = env.keepOnFailure();
      let note = keep
        ? `The container was kept for debugging (THROWAWAY_KEEP_ON_FAILURE); remove it with \`docker rm -f ${id.slice(0, 12)}\`.`
        : "The container was removed; set THROWAWAY_KEEP_ON_FAILURE=true to keep it for debugging.";
      if (!keep && !(await this.discard(engine, id))) {
        note = "The container could not be removed now; it is removed when this process ends, or by the reaper once the engine is back.";
      }
      throw withNote(error, note);
    }
    // With a wait that reads no logs, the consumer may still be behind; its stream is at least open, so what the
    // container printed reaches it even when the caller stops the container right away.
    await tee?.opened;
    debug(`container ${id.slice(0, 12)}`, `${image} started and ready in ${Date.now() - started} ms`);
    return handle;
  }
}

/**
 * Docker binds ports during start, so the first inspect has them; some engines (Podman, Docker Desktop's proxy)
 * publish a moment later. Re-inspect only then, briefly backing off, within the startup deadline; a container that
 * is no longer running is left for the wait's exit detection to report.
 */
async function awaitPortBindings(
  engine: Engine,
  inspect: ContainerInspect,
  declared: string[],
  deadline: number,
): Promise<ContainerInspect> {
  let current = inspect;
  let delay = 5;
  while (unboundPorts(current, declared).length > 0 && current.State.Running && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 100);
    current = await engine.inspectContainer(current.Id);
  }
  return current;
}

/**
 * Substitution runs once per start: substitutors are user code (a mirror lookup, a log line), and the name the
 * reuse hash, the create and the handle see must be one and the same.
 */
function resolveImage(options: NormalizedOptions, pinned = false): NormalizedOptions {
  if (!pinned) options.image = substituteImage(options.image);
  return options;
}

function defaultWaitStrategy(options: NormalizedOptions, healthTest: string[] | undefined): WaitStrategy {
  const hasHealthCheck = options.healthCheck
    ? options.healthCheck.Test[0] !== "NONE"
    : healthTest !== undefined && healthTest.length > 0 && healthTest[0] !== "NONE";
  return hasHealthCheck ? new HealthCheckWaitStrategy() : new ListeningPortsWaitStrategy();
}

/**
 * sha256 over everything that makes two containers interchangeable: the create body (without session labels), the
 * name, and what is copied in, by content (an edited file must not bring back the container with the old one).
 */
async function reuseHash(options: NormalizedOptions, body: Record<string, unknown>): Promise<string> {
  const hash = createHash("sha256");
  hash.update(JSON.stringify(body));
  hash.update(JSON.stringify(options.name ?? ""));
  await hashCopyItems(options.copies, hash);
  // A stream's content cannot be known before it is read: each stream counts as different (no reuse across them).
  for (const { tar, target } of options.archives) {
    hash.update(JSON.stringify({ kind: "archive", target }));
    hash.update(Buffer.isBuffer(tar) ? tar : randomUUID());
  }
  return hash.digest("hex");
}

function followLogs(engine: Engine, id: string, tty: boolean, consumer: (line: LogLine) => void): LogTee {
  return new LogTee(engine.logLines(id, { follow: true, tty }), consumer, (error: unknown) =>
    debug(`container ${id.slice(0, 12)}`, `log consumer stopped: ${engineMessage(error)}`),
  );
}

/** Adds the removed/kept note to a start failure's full message (the short message stays one line). */
function withNote(error: unknown, note: string): unknown {
  if (error instanceof Error && "shortMessage" in error) {
    const e = error as Error & { shortMessage: string; details?: string };
    const details = e.details ? `${note}\n${e.details.replace(/^\n+/, "")}` : note;
    Object.defineProperty(e, "details", { value: details, configurable: true, writable: true });
    e.message = `${e.shortMessage}\n\n${details}`;
  }
  return error;
}

export type { CopyItem };
export { InvalidOptionError };
