import type { StartedContainer } from "../container/started-container.js";
import { debug } from "../debug.js";
import { InvalidOptionError } from "../errors.js";
import { currentTestFile, installFailureHook, watchContainer } from "./failure-logs.js";
import type { mysqlFixtures } from "./mysql.js";
import {
  type ContainerFactory,
  type FailureLogOptions,
  type FixtureScope,
  type NormalizedFixtureOptions,
  normalizeFixtureOptions,
} from "./options.js";

/** vitest's `use` callback: hands the value to the test and resolves when the fixture is to be torn down. */
export type Use<T> = (value: T) => Promise<void>;

export interface ContainerFixtureOptions<S extends FixtureScope = FixtureScope> extends FailureLogOptions {
  /**
   * When the container starts and is removed: `"test"` (default) a fresh one for every test that uses it, `"file"`
   * one per test file, `"worker"` one per vitest worker (shared by the files that worker runs; with vitest's default
   * `isolate: true` every file gets its own worker, so this is then the same as `"file"`).
   */
  scope?: S;
  /** Start it for every test even when no test names it (vitest's `auto`). Default `false`. */
  auto?: boolean;
}

/**
 * A fixture for vitest's object syntax, `[fixture, { scope, auto }]`:
 *
 * ```ts
 * const it = test.extend<{ web: StartedContainer }>({ web: containerFixture(() => new GenericContainer(...)) });
 * ```
 */
// biome-ignore lint/suspicious/noExplicitAny: vitest's object syntax gives factories no contextual type; `any` keeps `({ network }) => ...` writable there, and the scoped and builder syntaxes infer the real type.
export type ContainerFixture<C extends StartedContainer, S extends FixtureScope = FixtureScope, Deps = any> = [
  fixture: (fixtures: Deps, use: Use<C>) => Promise<void>,
  options: { scope: S; auto: boolean },
];

/**
 * A fixture for vitest's builder syntax, `test.extend(name, { scope }, fixture)`, which infers the fixture's type:
 * `({ web }) => web.getMappedPort(8080)` then autocompletes without naming any type.
 */
// biome-ignore lint/suspicious/noExplicitAny: vitest's object syntax gives factories no contextual type; `any` keeps `({ network }) => ...` writable there, and the scoped and builder syntaxes infer the real type.
export type StartedContainerFixture<C extends StartedContainer, Deps = any> = (
  fixtures: Deps,
  lifecycle: { onCleanup: (cleanup: () => Promise<void>) => void },
) => Promise<C>;

/**
 * A container as a vitest fixture: started the first time a test (or hook) of its scope uses it, stopped and removed
 * when the scope ends, after the fixtures that depend on it (vitest tears down in reverse order), whether the tests
 * passed or not. A test that fails gets the last log lines of every container fixture it used (directly or through
 * other fixtures) added to its output, as `ContainerLogs` entries after its error.
 *
 * The logs come from an `afterEach` hook the fixture adds to the test file it is set up in. One gap: with
 * `isolate: false`, a worker-scoped container reused by a later file of the same worker adds its logs there only if
 * that file also sets up a throwaway fixture (the per-test `mysql` of {@link mysqlFixtures} always does).
 *
 * ```ts
 * export const it = test.extend<{ network: StartedNetwork; web: StartedContainer }>({
 *   network: [async ({}, use) => { ... }, { scope: "file" }],
 *   web: containerFixture(({ network }) => new GenericContainer("busybox").withNetwork(network), { scope: "file" }),
 * });
 * ```
 *
 * @param factory makes the container to start; it may destructure other fixtures, which are then set up first.
 * @param options `scope` (default `"test"`), `auto`, `failureLogLines`.
 */
// biome-ignore lint/suspicious/noExplicitAny: vitest's object syntax gives factories no contextual type; `any` keeps `({ network }) => ...` writable there, and the scoped and builder syntaxes infer the real type.
export function containerFixture<C extends StartedContainer, S extends FixtureScope = "test", Deps = any>(
  factory: ContainerFactory<C, Deps>,
  options?: ContainerFixtureOptions<S>,
): ContainerFixture<C, S, Deps> {
  const settings = normalizeFixtureOptions("containerFixture", factory, options);
  const fixture = async (fixtures: Deps, use: Use<C>): Promise<void> => {
    const container = await startForFixture(factory, fixtures, settings);
    try {
      await use(container);
    } finally {
      await container.stop();
    }
  };
  exposeDependencies(fixture, factory);
  return [fixture, { scope: settings.scope as S, auto: settings.auto }];
}

/**
 * The same container fixture for vitest's builder syntax, which takes the scope itself:
 *
 * ```ts
 * export const it = test
 *   .extend("web", { scope: "file" }, startedContainer(() => new GenericContainer("busybox").withExposedPorts(8080)))
 *   .extend("client", async ({ web }) => new Client(web.getHost(), web.getMappedPort(8080)));
 * ```
 */
// biome-ignore lint/suspicious/noExplicitAny: vitest's object syntax gives factories no contextual type; `any` keeps `({ network }) => ...` writable there, and the scoped and builder syntaxes infer the real type.
export function startedContainer<C extends StartedContainer, Deps = any>(
  factory: ContainerFactory<C, Deps>,
  options?: FailureLogOptions,
): StartedContainerFixture<C, Deps> {
  if (options !== undefined && typeof options === "object" && options !== null && "scope" in options) {
    throw new InvalidOptionError("startedContainer({ scope })", "absent: the builder syntax takes the scope itself", options.scope, {
      hint: 'write test.extend("name", { scope: "file" }, startedContainer(factory))',
    });
  }
  const settings = normalizeFixtureOptions("startedContainer", factory, options);
  const fixture = async (fixtures: Deps, { onCleanup }: { onCleanup: (cleanup: () => Promise<void>) => void }): Promise<C> => {
    const container = await startForFixture(factory, fixtures, settings);
    onCleanup(async () => {
      await container.stop();
    });
    return container;
  };
  exposeDependencies(fixture, factory);
  return fixture;
}

async function startForFixture<C extends StartedContainer, Deps>(
  factory: ContainerFactory<C, Deps>,
  fixtures: Deps,
  settings: NormalizedFixtureOptions,
): Promise<C> {
  const starter = await factory(fixtures);
  if (typeof (starter as { start?: unknown } | null)?.start !== "function") {
    throw new InvalidOptionError("the container fixture's factory result", "a container to start (with a `start()` method)", starter, {
      hint: "return the builder, e.g. `() => new GenericContainer(image)`, not a started container",
    });
  }
  // Before the start: nothing after it may throw and leave the container without its teardown.
  installFailureHook(currentTestFile(fixtures));
  const container = await starter.start();
  watchContainer(container, container, settings.failureLogLines);
  debug("vitest", `container ${container.getId().slice(0, 12)} (${container.getImage()}) started for a fixture of scope ${settings.scope}`);
  return container;
}

/**
 * vitest decides what a fixture depends on by reading the source of its first parameter. Ours are generic
 * wrappers, so they show vitest the factory's source instead: `({ network }) => ...` then depends on `network`
 * exactly as a hand-written fixture would, and a factory without parameters depends on nothing.
 */
export function exposeDependencies(fixture: object, factory: { toString(): string }): void {
  Object.defineProperty(fixture, "toString", { value: () => factory.toString(), configurable: true, writable: true });
}
