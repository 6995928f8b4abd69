import type { TestProject } from "vitest/node";
import type { StartedContainer } from "../container/started-container.js";
import { debug } from "../debug.js";
import { InvalidOptionError } from "../errors.js";
import { getSessionId } from "../reaper/session.js";
import type { ContainerStarter } from "./options.js";

/**
 * What tests get from `inject(name)` for a container started by {@link defineGlobalSetup} unless its definition has a
 * `provide` of its own: plain data (vitest sends it to every worker), enough to connect.
 */
export interface ContainerInfo {
  /** The full container id. */
  id: string;
  /** The container name, without Docker's leading slash. */
  name: string;
  /** The image it runs, after substitution. */
  image: string;
  /** The host to connect to (`127.0.0.1` for a local engine; env `THROWAWAY_HOST_OVERRIDE`). */
  host: string;
  /** The host port of every exposed port, keyed like Docker: `{ "3306/tcp": 49153 }`, in declared order. */
  ports: Record<string, number>;
  /** The host port of the first exposed port, for single-port containers; absent when none is exposed. */
  port?: number;
}

/** {@link ContainerInfo}, plus `uri` for containers with a `getConnectionUri()` (databases). */
export type DefaultContainerInfo<C> = C extends { getConnectionUri(): string } ? ContainerInfo & { uri: string } : ContainerInfo;

/** One container for the whole run: a factory, or a factory and what to provide to tests. */
export type GlobalContainerDefinition<C extends StartedContainer = StartedContainer, P = unknown> =
  | (() => ContainerStarter<C> | Promise<ContainerStarter<C>>)
  | {
      /** Makes the container to start. */
      container: () => ContainerStarter<C> | Promise<ContainerStarter<C>>;
      /**
       * What tests get from `inject(name)`, from the started container. Must survive `structuredClone` (strings,
       * numbers, plain objects and arrays). Default: {@link DefaultContainerInfo}.
       */
      provide?(container: C): P;
    };

export type GlobalContainerDefinitions = Record<string, GlobalContainerDefinition>;

type StartedOf<D> = D extends () => ContainerStarter<infer C> | Promise<ContainerStarter<infer C>>
  ? C
  : D extends { container: () => ContainerStarter<infer C> | Promise<ContainerStarter<infer C>> }
    ? C
    : never;

type ProvidedOf<D> = D extends { provide: (container: never) => infer P } ? P : DefaultContainerInfo<StartedOf<D>>;

/** The started containers of a set of definitions, by name. */
export type StartedGlobalContainers<D extends GlobalContainerDefinitions> = { [K in keyof D]: StartedOf<D[K]> };

/**
 * The values a set of global containers provides, by name: extend vitest's `ProvidedContext` with it so `inject` is
 * typed.
 *
 * ```ts
 * const setup = defineGlobalSetup({ mysql: () => new MySqlContainer() });
 * export default setup;
 * declare module "vitest" {
 *   export interface ProvidedContext extends ProvidedBy<typeof setup> {}
 * }
 * ```
 */
export type ProvidedBy<T> =
  T extends GlobalSetup<infer D>
    ? { [K in keyof D]: ProvidedOf<D[K]> }
    : T extends GlobalContainerDefinitions
      ? { [K in keyof T]: ProvidedOf<T[K]> }
      : never;

/** The containers {@link startGlobal} started: their handles, what was provided, and one `stop()` for all. */
export interface GlobalContainers<D extends GlobalContainerDefinitions> extends AsyncDisposable {
  readonly containers: StartedGlobalContainers<D>;
  readonly provided: ProvidedBy<D>;
  /** Stops and removes every container, in parallel; idempotent. Rejects with every failure if some could not be stopped. */
  stop(): Promise<void>;
}

/** A vitest `globalSetup` function (a file's default export): starts the containers, returns their teardown. */
export interface GlobalSetup<D extends GlobalContainerDefinitions> {
  (project: TestProject): Promise<() => Promise<void>>;
  /** The definitions, kept for {@link ProvidedBy}. */
  readonly definitions: D;
}

/**
 * Starts containers once for the whole test run, from a vitest `globalSetup` file (which runs in the main process,
 * before any worker), and provides each one's connection info to the tests under its name (`inject("mysql")`).
 * Workers inherit the run's session (env `THROWAWAY_SESSION_ID`, set here), so their own containers and these share
 * one session and the reaper leaves all of them alone until the run ends.
 *
 * The containers start in parallel. If one fails, the others are removed and the error is thrown (an
 * `AggregateError` when several fail), which fails the run before any test.
 *
 * ```ts
 * // vitest.config.ts: test: { globalSetup: ["test/containers.ts"] }
 * // test/containers.ts
 * const setup = defineGlobalSetup({ mysql: () => new MySqlContainer(), web: { container: ..., provide: (c) => ... } });
 * export default setup;
 * declare module "vitest" {
 *   export interface ProvidedContext extends ProvidedBy<typeof setup> {}
 * }
 * // a test: const { uri } = inject("mysql");
 * ```
 */
export function defineGlobalSetup<const D extends GlobalContainerDefinitions>(definitions: D): GlobalSetup<D> {
  validateDefinitions("defineGlobalSetup", definitions);
  const setup = async (project: TestProject) => {
    const global = await startGlobal(project, definitions);
    return () => global.stop();
  };
  return Object.assign(setup, { definitions });
}

/**
 * What {@link defineGlobalSetup} does, for a `globalSetup` function of your own that does more: starts the
 * containers, provides their info to `project`, and returns a handle whose `stop()` belongs in your teardown.
 */
export async function startGlobal<const D extends GlobalContainerDefinitions>(
  project: Pick<TestProject, "provide">,
  definitions: D,
): Promise<GlobalContainers<D>> {
  validateDefinitions("startGlobal", definitions);
  // Before any worker exists: they inherit the id from the environment and join this session.
  const session = getSessionId();
  const names = Object.keys(definitions);
  const results = await Promise.allSettled(names.map((name) => startOne(name, definitions[name]!)));
  const started = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const failures = results.flatMap((r) => (r.status === "rejected" ? [r.reason as unknown] : []));
  const stop = onceStop(started.map((s) => s.container));
  if (failures.length > 0) {
    await stop().catch(() => {});
    if (failures.length === 1) throw failures[0];
    const failed = names.filter((_, i) => results[i]!.status === "rejected");
    throw new AggregateError(failures, `${failures.length} of ${names.length} global containers failed to start: ${failed.join(", ")}`);
  }
  const containers: Record<string, StartedContainer> = {};
  const provided: Record<string, unknown> = {};
  try {
    for (const { name, container, info } of started) {
      containers[name] = container;
      provided[name] = info;
      (project.provide as (key: string, value: unknown) => void)(name, info);
    }
  } catch (error) {
    await stop().catch(() => {});
    throw error;
  }
  debug("vitest", `global containers ${names.join(", ")} started for session ${session}`);
  return {
    containers: containers as StartedGlobalContainers<D>,
    provided: provided as ProvidedBy<D>,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

async function startOne(
  name: string,
  definition: GlobalContainerDefinition,
): Promise<{ name: string; container: StartedContainer; info: unknown }> {
  const factory = typeof definition === "function" ? definition : definition.container;
  const provide = typeof definition === "function" ? undefined : definition.provide;
  const starter = await factory();
  if (typeof (starter as { start?: unknown } | null)?.start !== "function") {
    throw new InvalidOptionError(`global container "${name}"`, "a factory returning a container to start", starter, {
      hint: "return the builder, e.g. `() => new GenericContainer(image)`",
    });
  }
  const container = await starter.start();
  try {
    const info = provide ? provide(container) : containerInfo(container);
    validateSerialisable(name, info);
    return { name, container, info };
  } catch (error) {
    await container.stop().catch(() => {});
    throw error;
  }
}

/** The default provided value: ids, host and ports, and `uri` when the container has `getConnectionUri()`. */
export function containerInfo<C extends StartedContainer>(container: C): DefaultContainerInfo<C> {
  const ports: Record<string, number> = {};
  for (const { port, protocol } of container.waitTarget().boundPorts()) {
    ports[`${port}/${protocol}`] = container.getMappedPort(port, protocol);
  }
  const first = Object.values(ports)[0];
  const info: ContainerInfo & { uri?: string } = {
    id: container.getId(),
    name: container.getName(),
    image: container.getImage(),
    host: container.getHost(),
    ports,
    ...(first !== undefined ? { port: first } : {}),
  };
  const uri = (container as { getConnectionUri?: unknown }).getConnectionUri;
  if (typeof uri === "function") info.uri = String(uri.call(container));
  return info as DefaultContainerInfo<C>;
}

function validateDefinitions(api: string, definitions: unknown): void {
  if (typeof definitions !== "object" || definitions === null || Array.isArray(definitions)) {
    throw new InvalidOptionError(`${api}(definitions)`, "an object of container definitions by name", definitions);
  }
  const names = Object.keys(definitions);
  if (names.length === 0) {
    throw new InvalidOptionError(`${api}(definitions)`, "at least one container definition", definitions, {
      hint: "e.g. { mysql: () => new MySqlContainer() }",
    });
  }
  for (const name of names) {
    const definition = (definitions as Record<string, unknown>)[name];
    const ok =
      typeof definition === "function" ||
      (typeof definition === "object" &&
        definition !== null &&
        typeof (definition as { container?: unknown }).container === "function" &&
        ["undefined", "function"].includes(typeof (definition as { provide?: unknown }).provide));
    if (!ok) {
      throw new InvalidOptionError(
        `${api}({ ${name} })`,
        "a factory, or `{ container: factory, provide?: (started) => value }`",
        definition,
      );
    }
  }
}

function validateSerialisable(name: string, value: unknown): void {
  try {
    structuredClone(value);
  } catch {
    throw new InvalidOptionError(
      `provide of global container "${name}"`,
      "a value vitest can send to workers (strings, numbers, plain objects, arrays)",
      value,
      {
        hint: "return plain data, such as `{ uri: container.getConnectionUri() }`",
      },
    );
  }
}

function onceStop(containers: StartedContainer[]): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () => {
    stopping ??= (async () => {
      const results = await Promise.allSettled(containers.map((c) => c.stop()));
      const failures = results.flatMap((r) => (r.status === "rejected" ? [r.reason as unknown] : []));
      if (failures.length === 1) throw failures[0];
      if (failures.length > 1) throw new AggregateError(failures, `${failures.length} global containers could not be stopped`);
    })();
    return stopping;
  };
}
