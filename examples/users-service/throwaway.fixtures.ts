/**
 * The users-service environment as throwaway fixtures: a network, MySQL 5.7 on it as `mysql` (empty root password,
 * as in the course), and the users-service built from this folder, pointed at `mysql`.
 *
 * Two ways to use it:
 * - `definitions`: one factory per resource, each returning an unstarted builder. Start them in this order (each
 *   takes what the earlier ones gave); `demo.mjs` does this to time every step.
 * - the default export, `up()`: starts all three and returns them with one `stop()`. This is the contract for the
 *   `throwaway up` command: a file named `throwaway.fixtures.ts` whose default export is an async function that
 *   takes no arguments and resolves to an object of started resources plus `stop()` (and `Symbol.asyncDispose`).
 *   If a start fails, what was already started is stopped before the error is thrown, so nothing is left behind.
 */
import { Network, type StartedNetwork } from "throwaway";
import { MySqlContainer, type StartedMySqlContainer } from "throwaway/mysql";
import { type StartedUsersServiceContainer, UsersServiceContainer } from "./users-service-container.js";

/** The network alias the service reaches MySQL by. */
export const MYSQL_ALIAS = "mysql";

export const definitions = {
  network: () => new Network(),
  // As in the course: root with an empty password. The database is the service's, so the container's helpers
  // (`executeQuery`, `getConnectionUri`) look at the same tables the service writes.
  mysql: (network: StartedNetwork) =>
    new MySqlContainer("mysql:5.7")
      .withUsername("root")
      .withRootPassword("")
      .withDatabase("users_service")
      .withNetwork(network)
      .withNetworkAliases(MYSQL_ALIAS),
  usersService: (network: StartedNetwork, mysql: StartedMySqlContainer) =>
    new UsersServiceContainer().withNetwork(network).withMySql(mysql, MYSQL_ALIAS),
} as const;

export interface UsersEnvironment extends AsyncDisposable {
  network: StartedNetwork;
  mysql: StartedMySqlContainer;
  usersService: StartedUsersServiceContainer;
  /** Stops the service, then MySQL, then the network. Idempotent. */
  stop(): Promise<void>;
}

/** Starts the whole environment (see the file comment for the `throwaway up` contract). */
export default async function up(): Promise<UsersEnvironment> {
  const started: { stop(): Promise<unknown> }[] = [];
  let stopping: Promise<void> | undefined;
  const stopAll = () => {
    stopping ??= (async () => {
      const errors: unknown[] = [];
      // Reverse start order: the network can only go once no container is attached to it.
      for (const resource of started.reverse()) await resource.stop().catch((error: unknown) => errors.push(error));
      if (errors.length === 1) throw errors[0];
      if (errors.length > 1) throw new AggregateError(errors, "stopping the users-service environment failed");
    })();
    return stopping;
  };
  try {
    const network = await definitions.network().start();
    started.push(network);
    const mysql = await definitions.mysql(network).start();
    started.push(mysql);
    const usersService = await definitions.usersService(network, mysql).start();
    started.push(usersService);
    return { network, mysql, usersService, stop: stopAll, [Symbol.asyncDispose]: stopAll };
  } catch (error) {
    await stopAll().catch(() => {});
    throw error;
  }
}
