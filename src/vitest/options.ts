import type { StartedContainer } from "../container/started-container.js";
import { InvalidOptionError } from "../errors.js";

/** When a fixture is set up and torn down, as vitest names it: per test, per test file, per worker. */
export type FixtureScope = "test" | "file" | "worker";

const SCOPES: readonly FixtureScope[] = ["test", "file", "worker"];

/** Anything with a `start()` that resolves to a started container: `GenericContainer`, `MySqlContainer`, subclasses. */
export interface ContainerStarter<C extends StartedContainer = StartedContainer> {
  start(): Promise<C>;
}

/**
 * Makes the container to start, from the fixtures it destructures (`({ network }) => new GenericContainer(...)`): the
 * factory's first parameter is what vitest reads to set up those fixtures first, exactly as for a hand-written
 * fixture, so it must be an object pattern or absent.
 */
export type ContainerFactory<C extends StartedContainer, Deps> = (fixtures: Deps) => ContainerStarter<C> | Promise<ContainerStarter<C>>;

/** Settings every throwaway fixture accepts. */
export interface FailureLogOptions {
  /**
   * How many of the container's last log lines (stdout and stderr) are added to the output of a test that fails while
   * using it; `0` adds none. Default 50; env `THROWAWAY_VITEST_LOG_LINES` changes the default for every fixture.
   */
  failureLogLines?: number;
}

export interface NormalizedFixtureOptions {
  scope: FixtureScope;
  auto: boolean;
  failureLogLines: number | undefined;
}

/** Checks a fixture helper's options once, where it is defined, so a typo fails at collection and names the helper. */
export function normalizeFixtureOptions(
  api: string,
  factory: unknown,
  options: { scope?: unknown; auto?: unknown; failureLogLines?: unknown } | undefined,
  defaultScope: FixtureScope = "test",
  factoryOption = `${api}(factory)`,
): NormalizedFixtureOptions {
  if (typeof factory !== "function") {
    throw new InvalidOptionError(
      factoryOption,
      "a function returning a container to start, e.g. `() => new GenericContainer(image)`",
      factory,
    );
  }
  if (options !== undefined && (typeof options !== "object" || options === null)) {
    throw new InvalidOptionError(`${api}(factory, options)`, "an options object", options);
  }
  const { scope = defaultScope, auto = false, failureLogLines } = options ?? {};
  if (!SCOPES.includes(scope as FixtureScope)) {
    throw new InvalidOptionError(`${api}({ scope })`, '"test", "file" or "worker"', scope);
  }
  if (typeof auto !== "boolean") throw new InvalidOptionError(`${api}({ auto })`, "a boolean", auto);
  return { scope: scope as FixtureScope, auto, failureLogLines: validateLogLines(`${api}({ failureLogLines })`, failureLogLines) };
}

export function validateLogLines(option: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    throw new InvalidOptionError(option, "a whole number of lines, 0 or more", value);
  }
  return value;
}
