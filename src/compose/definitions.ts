/**
 * A compose project as fixture definitions: one per network and one per container (`web-1`, `web-2`), each
 * container needing its networks and every container of the services it depends on. The fixture runner then
 * starts them in dependency order, independent ones side by side, and removes what started when one fails.
 */
import { createHash } from "node:crypto";
import { GenericContainer } from "../container/generic-container.js";
import type { PullPolicy } from "../container/options.js";
import type { StartedContainer } from "../container/started-container.js";
import { debug } from "../debug.js";
import type { FixtureContext, FixtureDefinition, Startable, Stoppable } from "../fixtures/types.js";
import type { BuiltImage } from "../image/build.js";
import { LABELS } from "../labels.js";
import { Network } from "../network/network.js";
import { sessionLabels } from "../reaper/session.js";
import { Wait } from "../wait/index.js";
import type { WaitStrategy } from "../wait/strategy.js";
import { ComposeFileError } from "./errors.js";
import type { ComposeProject } from "./load.js";
import type { ServiceSpec } from "./service.js";
import { StartedWaitStrategy } from "./started-wait.js";

/** The labels Compose puts on what it creates; `docker compose ps` and `docker-compose ps` find a project by them. */
export const COMPOSE_LABELS = {
  project: "com.docker.compose.project",
  service: "com.docker.compose.service",
  number: "com.docker.compose.container-number",
  oneoff: "com.docker.compose.oneoff",
  workingDir: "com.docker.compose.project.working_dir",
  configFiles: "com.docker.compose.project.config_files",
  configHash: "com.docker.compose.config-hash",
  network: "com.docker.compose.network",
  volume: "com.docker.compose.volume",
  version: "com.docker.compose.version",
} as const;

export interface DefinitionOptions {
  /** Wait strategies by container (`web-1`) or service (`web`) name. */
  waitStrategies: ReadonlyMap<string, WaitStrategy>;
  pullPolicy: PullPolicy | undefined;
  startupTimeoutMs: number | undefined;
  /** Label named volumes and built images to outlive the session (`throwaway up --keep`). */
  keep: boolean;
}

/** The fixture name of a project network. */
export function networkFixtureName(key: string): string {
  return `network:${key}`;
}

/** The containers of the services planned, by name (`web-1`), for {@link composeDefinitions}' callers. */
export function containerNames(project: ComposeProject, services: readonly string[]): string[] {
  return services.flatMap((service) => replicaNames(project.services.get(service)!));
}

function replicaNames(spec: ServiceSpec): string[] {
  return Array.from({ length: spec.replicas }, (_, i) => `${spec.name}-${i + 1}`);
}

/** The definitions for `services` (planned: dependencies first). */
export function composeDefinitions(project: ComposeProject, services: readonly string[], options: DefinitionOptions): FixtureDefinition[] {
  const definitions: FixtureDefinition[] = [];
  const specs = services.map((name) => project.services.get(name)!);
  const usedNetworks = [...new Set(specs.flatMap((spec) => [...spec.networks.keys()]))];
  for (const key of usedNetworks) {
    const network = project.networks.get(key)!;
    definitions.push({
      name: networkFixtureName(key),
      needs: [],
      create: (): Startable => {
        if (network.external) return { start: async () => ({ getName: () => network.name, stop: async () => {} }) };
        return new Network({
          name: network.name,
          labels: {
            ...network.labels,
            [COMPOSE_LABELS.project]: project.name,
            [COMPOSE_LABELS.network]: key,
            [COMPOSE_LABELS.version]: "2.0.0",
          },
          internal: network.internal,
        });
      },
    });
  }
  // What dependents ask of a service decides how long its start waits.
  const asked = new Map<string, Set<string>>();
  for (const spec of specs) {
    for (const [dependency, { condition }] of spec.dependsOn) {
      if (!services.includes(dependency)) continue;
      const set = asked.get(dependency) ?? new Set();
      set.add(condition);
      asked.set(dependency, set);
    }
  }
  const builds = new Map<string, SharedBuild>();
  for (const spec of specs) {
    // Built at once, side by side with the first starts: an image is not a dependency's business, so waiting for
    // one (a database becoming healthy) must not also wait for the build.
    if (spec.build) builds.set(spec.name, startBuild(spec, options));
    if (spec.containerName !== undefined && spec.replicas > 1) {
      throw new ComposeFileError(
        { file: project.files[0]!, keyPath: `services.${spec.name}.container_name`, line: undefined },
        `service ${spec.name} has a container_name and ${spec.replicas} replicas: names must be unique, remove one`,
      );
    }
    if (spec.restart !== undefined)
      debug("compose", `${spec.name}: restart: ${spec.restart} is ignored (throwaway never restarts containers)`);
    const needs = [
      ...[...spec.networks.keys()].map(networkFixtureName),
      ...[...spec.dependsOn.keys()].filter((d) => services.includes(d)).flatMap((d) => replicaNames(project.services.get(d)!)),
    ];
    replicaNames(spec).forEach((replica, index) => {
      definitions.push({
        name: replica,
        needs,
        create: async (started, context) => {
          const container = await baseContainer(spec, builds, context);
          configureContainer(container, project, spec, index + 1, started, options, asked.get(spec.name));
          return container;
        },
      });
    });
  }
  return definitions;
}

/** A build started once for all of a service's replicas; progress goes to each replica's listener that asked. */
interface SharedBuild {
  image: Promise<BuiltImage>;
  listeners: Set<(event: Parameters<FixtureContext["onProgress"]>[0]) => void>;
}

function startBuild(spec: ServiceSpec, options: DefinitionOptions): SharedBuild {
  const listeners: SharedBuild["listeners"] = new Set();
  const build = spec.build!;
  const builder = GenericContainer.fromDockerfile(build.context, {
    buildArgs: build.args,
    ...(build.dockerfile ? { dockerfile: build.dockerfile } : {}),
    ...(build.target ? { target: build.target } : {}),
  });
  // `image:` with `build:` names the built image, as Compose tags it.
  const image = builder.buildImage(spec.image, {
    keep: options.keep,
    onProgress: (event) => {
      for (const listener of listeners) listener(event);
    },
  });
  // Awaited by the replicas' factories; a failure nobody reached (a dependency failed first) is not unhandled.
  image.catch(() => {});
  return { image, listeners };
}

async function baseContainer(spec: ServiceSpec, builds: Map<string, SharedBuild>, context: FixtureContext): Promise<GenericContainer> {
  const build = builds.get(spec.name);
  if (!build) return new GenericContainer(spec.image!);
  build.listeners.add(context.onProgress);
  try {
    return (await build.image).container();
  } finally {
    build.listeners.delete(context.onProgress);
  }
}

function configureContainer(
  container: GenericContainer,
  project: ComposeProject,
  spec: ServiceSpec,
  number: number,
  started: Record<string, Stoppable>,
  options: DefinitionOptions,
  asked: ReadonlySet<string> | undefined,
): void {
  const name = spec.containerName ?? `${project.name}-${spec.name}-${number}`;
  container.withName(name).withEnvironment(spec.environment);
  const hash = createHash("sha256")
    .update(JSON.stringify({ ...spec, networks: [...spec.networks], dependsOn: [...spec.dependsOn] }))
    .digest("hex");
  container.withLabels({
    ...spec.labels,
    [COMPOSE_LABELS.project]: project.name,
    [COMPOSE_LABELS.service]: spec.name,
    [COMPOSE_LABELS.number]: String(number),
    [COMPOSE_LABELS.oneoff]: "False",
    [COMPOSE_LABELS.workingDir]: project.dir,
    [COMPOSE_LABELS.configFiles]: project.files.join(","),
    [COMPOSE_LABELS.configHash]: hash,
    [COMPOSE_LABELS.version]: "2.0.0",
  });
  if (spec.command) container.withCommand(spec.command);
  if (spec.entrypoint) container.withEntrypoint(spec.entrypoint);
  if (spec.ports.length > 0) container.withExposedPorts(...spec.ports);
  if (spec.user !== undefined) container.withUser(spec.user);
  if (spec.workingDir !== undefined) container.withWorkingDir(spec.workingDir);
  if (spec.hostname !== undefined) container.withHostname(spec.hostname);
  if (spec.extraHosts.length > 0) container.withExtraHosts(spec.extraHosts);
  if (spec.capAdd.length > 0) container.withAddedCapabilities(...spec.capAdd);
  if (spec.capDrop.length > 0) container.withDroppedCapabilities(...spec.capDrop);
  if (spec.shmSizeBytes !== undefined) container.withSharedMemorySize(spec.shmSizeBytes);
  if (spec.memoryBytes !== undefined || spec.cpus !== undefined) {
    container.withResources({
      ...(spec.memoryBytes !== undefined ? { memoryBytes: spec.memoryBytes } : {}),
      ...(spec.cpus !== undefined ? { cpus: spec.cpus } : {}),
    });
  }
  if (spec.platform !== undefined) container.withPlatform(spec.platform);
  const pull = spec.pullPolicy ?? options.pullPolicy;
  if (pull !== undefined) container.withPullPolicy(pull);
  if (options.startupTimeoutMs !== undefined) container.withStartupTimeout(options.startupTimeoutMs);
  if (spec.healthcheck) {
    container.withHealthCheck({
      test: spec.healthcheck.test ?? ["NONE"],
      ...(spec.healthcheck.intervalMs !== undefined ? { intervalMs: spec.healthcheck.intervalMs } : {}),
      ...(spec.healthcheck.timeoutMs !== undefined ? { timeoutMs: spec.healthcheck.timeoutMs } : {}),
      ...(spec.healthcheck.retries !== undefined ? { retries: spec.healthcheck.retries } : {}),
      ...(spec.healthcheck.startPeriodMs !== undefined ? { startPeriodMs: spec.healthcheck.startPeriodMs } : {}),
    });
  }
  const aliases = new Set([spec.name]);
  for (const [key, extra] of spec.networks) {
    container.withNetwork(started[networkFixtureName(key)] as unknown as { getName(): string });
    for (const alias of extra) aliases.add(alias);
  }
  container.withNetworkAliases(...aliases);
  const binds = spec.mounts.filter((m) => m.type === "bind");
  if (binds.length > 0)
    container.withBindMounts(binds.map((m) => ({ source: m.source, target: m.target, mode: m.readOnly ? "ro" : "rw" })));
  const tmpfs = spec.mounts.filter((m) => m.type === "tmpfs");
  if (tmpfs.length > 0) container.withTmpFs(Object.fromEntries(tmpfs.map((m) => [m.target, m.options])));
  const volumeMounts = spec.mounts.flatMap((m) => {
    if (m.type !== "volume") return [];
    if (m.source === undefined) return [{ Type: "volume", Target: m.target, ReadOnly: m.readOnly }];
    const volume = project.volumes.get(m.source)!;
    // The engine creates a missing named volume on create, with these labels: no extra call, and the reaper and
    // `prune` find it by the session label like every other resource.
    const labels = volume.external
      ? undefined
      : {
          ...volume.labels,
          [COMPOSE_LABELS.project]: project.name,
          [COMPOSE_LABELS.volume]: m.source,
          [COMPOSE_LABELS.version]: "2.0.0",
          // A kept volume outlives the session, and its labels are part of the container's reuse hash: no session
          // (nor pid) labels then, or the next `up --keep` would never find its containers again.
          ...(options.keep ? { [LABELS.keep]: "true" } : sessionLabels()),
        };
    return [
      {
        Type: "volume",
        Source: volume.name,
        Target: m.target,
        ReadOnly: m.readOnly,
        ...(labels ? { VolumeOptions: { Labels: labels } } : {}),
      },
    ];
  });
  container.withCreateOptions((body) => {
    const host = body.HostConfig as Record<string, unknown>;
    if (volumeMounts.length > 0) host.Mounts = [...((host.Mounts as unknown[]) ?? []), ...volumeMounts];
    if (spec.ulimits.length > 0) host.Ulimits = spec.ulimits;
    if (spec.init !== undefined) host.Init = spec.init;
    if (spec.stopSignal !== undefined) body.StopSignal = spec.stopSignal;
    if (spec.stopGraceMs !== undefined) body.StopTimeout = Math.ceil(spec.stopGraceMs / 1000);
    if (spec.expose.length > 0) {
      body.ExposedPorts = { ...(body.ExposedPorts as Record<string, object>), ...Object.fromEntries(spec.expose.map((p) => [p, {}])) };
    }
  });
  const strategy = waitStrategyFor(spec, `${spec.name}-${number}`, options, asked);
  if (strategy) container.withWaitStrategy(strategy);
}

/**
 * The user's strategy for the container or its service; else what a dependent asks for (completed, healthy);
 * else the container's default (its health check, else its published ports) when it has one of those; else
 * "started", as Compose.
 */
function waitStrategyFor(
  spec: ServiceSpec,
  replica: string,
  options: DefinitionOptions,
  asked: ReadonlySet<string> | undefined,
): WaitStrategy | undefined {
  const given = options.waitStrategies.get(replica) ?? options.waitStrategies.get(spec.name);
  if (given) return given;
  if (asked?.has("service_completed_successfully")) return Wait.forOneShotStartup();
  if (asked?.has("service_healthy")) return Wait.forHealthCheck();
  const healthy = spec.healthcheck !== undefined && spec.healthcheck.test?.[0] !== "NONE";
  if (healthy || spec.ports.length > 0 || spec.build !== undefined) return undefined;
  return new StartedWaitStrategy();
}

export type { StartedContainer };
