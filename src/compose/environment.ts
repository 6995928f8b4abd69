import { resolve } from "node:path";
import type { PullPolicy } from "../container/options.js";
import { StartedContainer } from "../container/started-container.js";
import { getEngine } from "../engine/current.js";
import { ContainerExitedError, FixtureStartError, InvalidOptionError, ThrowawayError } from "../errors.js";
import { type StartedSet, startFixtureSet } from "../fixtures/run.js";
import { trackResource, untrackResource } from "../reaper/tracker.js";
import type { WaitStrategy } from "../wait/strategy.js";
import { COMPOSE_LABELS, composeDefinitions, containerNames } from "./definitions.js";
import { ComposeServiceError } from "./errors.js";
import { type ComposeProject, loadComposeProject } from "./load.js";
import { activeProfiles, planServices } from "./plan.js";

/** Options of {@link StartedDockerComposeEnvironment.down}. */
export interface ComposeDownOptions {
  /** Also remove the project's named volumes (`docker compose down -v`). Default `true`: nothing outlives a test. */
  removeVolumes?: boolean;
}

/**
 * A compose project (one file or several, merged in order as Compose merges them) started as throwaway containers,
 * natively: no Compose binary, every container, network and named volume labelled for the reaper and `prune`.
 *
 * ```ts
 * await using env = await new DockerComposeEnvironment("examples/users-service", "docker-compose.yml").up();
 * const web = env.getContainer("users-service-1");
 * ```
 *
 * Options are recorded raw and checked at {@link up}, which also reads and checks the files (a schema error names
 * the file, key and line before anything is created).
 */
export class DockerComposeEnvironment {
  private readonly dir: string;
  private readonly files: string[];
  private readonly environment: Record<string, string> = {};
  private readonly envFiles: string[] = [];
  private profiles: string[] = [];
  private readonly waitStrategies = new Map<string, WaitStrategy>();
  private pullPolicy: PullPolicy | undefined;
  private projectName: string | undefined;
  private startupTimeoutMs: number | undefined;

  /**
   * @param dir The project folder: relative paths in the files, `.env` and the default project name (its base
   *   name) come from it.
   * @param files The compose file(s), relative to `dir`, merged in order.
   */
  constructor(dir: string, files: string | readonly string[]) {
    this.dir = resolve(dir);
    this.files = typeof files === "string" ? [files] : [...files];
  }

  /** Variables for interpolation, over the process environment and `.env`. Merged over earlier calls. */
  withEnvironment(environment: Record<string, string>): this {
    Object.assign(this.environment, environment);
    return this;
  }

  /** An env file read instead of the project's `.env` (`docker compose --env-file`); call again for more. */
  withEnvironmentFile(path: string): this {
    this.envFiles.push(path);
    return this;
  }

  /** Profiles to enable (`--profile`). Default: `COMPOSE_PROFILES` from the environment, else none. */
  withProfiles(...profiles: string[]): this {
    this.profiles.push(...profiles);
    return this;
  }

  /**
   * How to tell a container (`web-1`) or every container of a service (`web`) is ready. Default: what a dependent
   * asks for (`service_healthy`, `service_completed_successfully`), else the service's health check, else its
   * published ports listening, else just started (as Compose).
   */
  withWaitStrategy(containerOrService: string, strategy: WaitStrategy): this {
    this.waitStrategies.set(containerOrService, strategy);
    return this;
  }

  /**
   * Services with `build:` are always built, through throwaway's content-addressed builder (an unchanged build
   * costs milliseconds), so this only exists for code written for testcontainers.
   */
  withBuild(): this {
    return this;
  }

  /** `always` pulls every image on each up; `missing` (default) only when the engine lacks it. */
  withPullPolicy(policy: PullPolicy): this {
    this.pullPolicy = policy;
    return this;
  }

  /** The project name, over `COMPOSE_PROJECT_NAME`, the files' `name:` and the folder's name. */
  withProjectName(name: string): this {
    this.projectName = name;
    return this;
  }

  /** Milliseconds each container may take to be ready. Default 60000, multiplied by `THROWAWAY_STARTUP_TIMEOUT_SCALE`. */
  withStartupTimeout(ms: number): this {
    this.startupTimeoutMs = ms;
    return this;
  }

  /** Reads and checks the files: the project as it would start. Throws what {@link up} would throw for them. */
  load(): ComposeProject {
    if (this.projectName !== undefined && (typeof this.projectName !== "string" || !/^[a-z0-9][a-z0-9_-]*$/.test(this.projectName))) {
      throw new InvalidOptionError(
        "withProjectName",
        "lower-case letters, digits, `_` and `-`, starting with a letter or digit",
        this.projectName,
      );
    }
    return loadComposeProject({
      dir: this.dir,
      files: this.files,
      environment: this.environment,
      envFiles: this.envFiles,
      ...(this.projectName !== undefined ? { projectName: this.projectName } : {}),
    });
  }

  /**
   * Starts the services (default: all whose profiles are active) and what they depend on, each once its
   * dependencies are as `depends_on` asks, independent ones side by side. When one fails, everything started is
   * removed and a {@link ComposeServiceError} names the service, its exit code and its last log lines.
   */
  async up(services?: readonly string[]): Promise<StartedDockerComposeEnvironment> {
    const project = this.load();
    const planned = planServices(project, activeProfiles(project, this.profiles), services);
    const definitions = composeDefinitions(project, planned, {
      waitStrategies: this.waitStrategies,
      pullPolicy: this.pullPolicy,
      startupTimeoutMs: this.startupTimeoutMs,
      keep: false,
    });
    const engine = await getEngine();
    const volumeFilter = { label: [`${COMPOSE_LABELS.project}=${project.name}`] };
    const existing = new Set((await engine.listVolumes(volumeFilter)).map((v) => v.Name));
    let set: StartedSet;
    try {
      set = await startFixtureSet(definitions);
    } catch (error) {
      // Named volumes this up created go with the failure; those an earlier stop() kept stay.
      const created = (await engine.listVolumes(volumeFilter).catch(() => [])).filter((v) => !existing.has(v.Name));
      await Promise.all(created.map((v) => engine.removeVolume(v.Name).catch(() => {})));
      throw serviceError(error, project);
    }
    const volumes = [...project.volumes.values()].filter((v) => !v.external).map((v) => v.name);
    const present = (await engine.listVolumes(volumeFilter)).map((v) => v.Name).filter((name) => volumes.includes(name));
    for (const name of present) trackResource(engine, "volume", name);
    return new StartedDockerComposeEnvironment(project, set, containerNames(project, planned), present);
  }
}

/** A started compose project: its containers by name (`web-1`), and the ways to end it. */
export class StartedDockerComposeEnvironment implements AsyncDisposable {
  private stopping: Promise<void> | undefined;
  private downing: Promise<void> | undefined;

  /** @internal Made by {@link DockerComposeEnvironment.up}. */
  constructor(
    private readonly project: ComposeProject,
    private readonly set: StartedSet,
    private readonly names: readonly string[],
    private readonly volumes: readonly string[],
  ) {}

  /** The project name, as the containers' `com.docker.compose.project` label says it. */
  getProjectName(): string {
    return this.project.name;
  }

  /** The containers' names in this environment (`web-1`, ...), dependencies first. */
  getContainerNames(): string[] {
    return [...this.names];
  }

  /**
   * A started container by `<service>-<n>` (`web-1`), by its full name (`<project>-web-1`), or by service name when
   * it has one replica. Throws {@link InvalidOptionError} listing the names there are.
   */
  getContainer(name: string): StartedContainer {
    const key = this.names.includes(name)
      ? name
      : name.startsWith(`${this.project.name}-`) && this.names.includes(name.slice(this.project.name.length + 1))
        ? name.slice(this.project.name.length + 1)
        : this.names.includes(`${name}-1`) && !this.names.includes(`${name}-2`)
          ? `${name}-1`
          : undefined;
    const resource = key === undefined ? undefined : this.set.resources.get(key);
    if (!(resource instanceof StartedContainer)) {
      throw new InvalidOptionError("getContainer(name)", `a container of project ${this.project.name} (${this.names.join(", ")})`, name);
    }
    return resource;
  }

  /**
   * Removes the containers and networks; named volumes stay (a later `up()` of the same project finds their data),
   * until {@link down} or the end of the session. Idempotent.
   */
  stop(): Promise<void> {
    this.stopping ??= this.set.stop();
    return this.stopping;
  }

  /** {@link stop}, then removes the named volumes too unless `removeVolumes: false`. Idempotent. */
  down(options: ComposeDownOptions = {}): Promise<void> {
    if (options.removeVolumes !== undefined && typeof options.removeVolumes !== "boolean") {
      return Promise.reject(new InvalidOptionError("down({ removeVolumes })", "a boolean", options.removeVolumes));
    }
    this.downing ??= (async () => {
      await this.stop();
      if (options.removeVolumes === false) return;
      const engine = await getEngine();
      await Promise.all(
        this.volumes.map(async (name) => {
          await engine.removeVolume(name);
          untrackResource("volume", name);
        }),
      );
    })();
    return this.downing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.down();
  }
}

/** The fixture runner's error as the service's: its name, the container, the exit code and its last log lines. */
function serviceError(error: unknown, project: ComposeProject): unknown {
  if (!(error instanceof FixtureStartError)) return error;
  const container = error.fixture;
  // A network that failed is no service's failure: its own error says what happened.
  if (container.startsWith("network:")) return error.cause ?? error;
  const service =
    [...project.services.keys()].find((name) => container.startsWith(`${name}-`) && /^\d+$/.test(container.slice(name.length + 1))) ??
    container;
  const cause = error.cause;
  const exitCode = cause instanceof ContainerExitedError ? cause.exitCode : exitCodeFrom(cause);
  const why = cause instanceof ThrowawayError ? cause.shortMessage : error.shortMessage;
  return new ComposeServiceError(
    `Service ${service} (${project.name}-${container}) failed to start${exitCode !== undefined ? ` (exit code ${exitCode})` : ""}: ${why}`,
    {
      service,
      container,
      ...(exitCode !== undefined ? { exitCode } : {}),
      ...(error.details ? { details: error.details } : {}),
      ...(error.containerId ? { containerId: error.containerId } : {}),
      ...(error.image ? { image: error.image } : {}),
      cause,
    },
  );
}

/** A one-shot wait reports "exited with code N" as its reason; the code is kept as a field where the error has one. */
function exitCodeFrom(cause: unknown): number | undefined {
  const code = (cause as { exitCode?: unknown } | undefined)?.exitCode;
  return typeof code === "number" ? code : undefined;
}
