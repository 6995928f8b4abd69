import { InvalidOptionError } from "../errors.js";
import type { StartedMySqlContainer } from "../modules/mysql/index.js";
import { exposeDependencies, type Use } from "./container-fixture.js";
import { currentTestFile, installFailureHook, watchContainer } from "./failure-logs.js";
import { type ContainerStarter, type FailureLogOptions, normalizeFixtureOptions } from "./options.js";

/** The snapshot name the MySQL fixtures take after seeding and restore before each test. */
export const MYSQL_FIXTURE_SNAPSHOT = "throwaway_vitest";

export interface MySqlFixtureOptions<C extends StartedMySqlContainer = StartedMySqlContainer> extends FailureLogOptions {
  /** Makes the MySQL to start. Default: `new MySqlContainer()` (`mysql:5.7`, database, user and password `test`). */
  container?: () => ContainerStarter<C> | Promise<ContainerStarter<C>>;
  /**
   * How widely the one MySQL is shared: `"worker"` (default) by every file a vitest worker runs, `"file"` by the tests
   * of one file. (With vitest's default `isolate: true` every file has its own worker, so both mean one per file; set
   * `isolate: false` to share one MySQL per worker.)
   */
  scope?: "file" | "worker";
  /**
   * Runs once after the start and before the snapshot: the schema and rows every test starts from (or use the
   * container's `withInitScripts`).
   */
  seed?: (mysql: C) => unknown;
}

/** What {@link mysqlFixtures} adds to the test context: `test.extend<MySqlFixtures>(mysqlFixtures())`. */
export interface MySqlFixtures<C extends StartedMySqlContainer = StartedMySqlContainer> {
  /**
   * The shared MySQL as it is: for fixtures of your own with the same or a wider scope (a connection pool), or tests
   * that do not need a clean database. Using it does not restore anything.
   */
  mysqlContainer: C;
  /**
   * The same MySQL, put back to its state right after `seed` before the test runs: every test that names `mysql`
   * sees the same database, whatever the tests before it did. Tests that name it run one at a time per MySQL, also
   * under `test.concurrent`, since they share the database.
   */
  mysql: C;
}

/** The fixtures of {@link mysqlFixtures}, in vitest's object syntax. */
export interface MySqlFixtureDefinitions<C extends StartedMySqlContainer = StartedMySqlContainer> {
  mysqlContainer: [fixture: (fixtures: object, use: Use<C>) => Promise<void>, options: { scope: "file" | "worker"; auto: false }];
  mysql: [fixture: (fixtures: { mysqlContainer: C }, use: Use<C>) => Promise<void>, options: { scope: "test"; auto: false }];
}

interface Shared {
  /** True until a test has had the database: the snapshot was just taken, nothing to put back. */
  pristine: boolean;
  /** Tests that name `mysql` queue here: one at a time may own the database. */
  queue: Promise<void>;
}

const shared = new WeakMap<object, Shared>();

/**
 * One MySQL shared by many tests, each of which still sees a clean database: the container starts once per worker
 * (or file), `seed` fills it, a snapshot is taken, and the test-scoped `mysql` fixture restores that snapshot before
 * every test that uses it (only the tables that changed are put back: milliseconds, not a new container).
 *
 * ```ts
 * export const it = test.extend<MySqlFixtures>(
 *   mysqlFixtures({ seed: (mysql) => mysql.executeScript("test/schema.sql") }),
 * );
 * it("adds a user", async ({ mysql }) => {
 *   const pool = mysql.createPool(); // closed when the container stops
 *   ...
 * });
 * ```
 */
export function mysqlFixtures<C extends StartedMySqlContainer = StartedMySqlContainer>(
  options: MySqlFixtureOptions<C> = {},
): MySqlFixtureDefinitions<C> {
  const factory = options.container ?? defaultMySql;
  if (options.scope !== undefined && options.scope !== "file" && options.scope !== "worker") {
    throw new InvalidOptionError("mysqlFixtures({ scope })", '"file" or "worker"', options.scope, {
      hint: "that is how widely the one MySQL is shared; the test-scoped `mysql` fixture already gives every test a clean database",
    });
  }
  if (options.seed !== undefined && typeof options.seed !== "function") {
    throw new InvalidOptionError("mysqlFixtures({ seed })", "a function of the started MySQL", options.seed);
  }
  const settings = normalizeFixtureOptions("mysqlFixtures", factory, options, "worker", "mysqlFixtures({ container })");
  const seed = options.seed;
  const container = async (fixtures: object, use: Use<C>): Promise<void> => {
    installFailureHook(currentTestFile(fixtures));
    const mysql = await (await (factory as () => ContainerStarter<C> | Promise<ContainerStarter<C>>)()).start();
    try {
      watchContainer(mysql, mysql, settings.failureLogLines);
      if (seed) await seed(mysql);
      await mysql.snapshot(MYSQL_FIXTURE_SNAPSHOT);
      shared.set(mysql, { pristine: true, queue: Promise.resolve() });
      await use(mysql);
    } finally {
      await mysql.stop();
    }
  };
  exposeDependencies(container, factory);

  const isolated = async (fixtures: { mysqlContainer: C }, use: Use<C>): Promise<void> => {
    const mysql = fixtures.mysqlContainer;
    const state = shared.get(mysql);
    if (!state) {
      throw new InvalidOptionError("the `mysqlContainer` fixture", "the MySQL that mysqlFixtures() starts and snapshots", mysql, {
        hint: "do not override `mysqlContainer`; pass your builder as mysqlFixtures({ container: () => ... })",
      });
    }
    const release = await takeTurn(state);
    try {
      if (!state.pristine) await mysql.restore(MYSQL_FIXTURE_SNAPSHOT);
      state.pristine = false;
      // Per test, so a failing test's output carries MySQL's logs in every file, also when the container was set
      // up by another file of the same worker.
      installFailureHook(currentTestFile(fixtures));
      await use(mysql);
    } finally {
      release();
    }
  };
  // The test-scoped fixture needs the shared one; vitest learns that from this parameter list.
  exposeDependencies(isolated, { toString: () => "({ mysqlContainer }) => {}" });

  return {
    mysqlContainer: [container, { scope: settings.scope as "file" | "worker", auto: false }],
    mysql: [isolated, { scope: "test", auto: false }],
  };
}

async function takeTurn(state: Shared): Promise<() => void> {
  let release!: () => void;
  const mine = new Promise<void>((resolve) => {
    release = resolve;
  });
  const before = state.queue;
  state.queue = before.then(() => mine);
  await before;
  return release;
}

// Loaded on first use: `throwaway/vitest` users without MySQL never load the module (or its driver).
async function defaultMySql(): Promise<ContainerStarter<StartedMySqlContainer>> {
  const { MySqlContainer } = await import("../modules/mysql/index.js");
  return new MySqlContainer();
}
