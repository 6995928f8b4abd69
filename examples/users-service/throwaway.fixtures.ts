/**
 * The users-service environment as throwaway fixtures: a network, MySQL 5.7 on it as `mysql` (empty root password,
 * as in the course), and the users-service built from this folder, pointed at `mysql`. One definition serves the
 * tests and day-to-day development:
 *
 * - `fixtures`: the set `throwaway up` starts (`npx throwaway up examples/users-service/throwaway.fixtures.ts`):
 *   network first, then MySQL, then the service, with progress, connection info (MySQL's URI, the service's URL)
 *   and logs; `--keep` leaves them running for the next `up` to reuse.
 * - the default export, `up()`: starts the same set from code and resolves to `{ network, mysql, usersService,
 *   stop() }` (also `await using`). If a start fails, what was already started is stopped before the error is
 *   thrown, so nothing is left behind.
 * - `definitions`: one factory per resource, each returning an unstarted builder, taking what the earlier ones gave.
 *   `demo.mjs` uses them to time every step.
 */
import { defineFixtures, Network, type StartedNetwork } from "throwaway";
import { MySqlContainer, type StartedMySqlContainer } from "throwaway/mysql";
import { buildUsersServiceImage, UsersServiceContainer } from "./users-service-container.js";

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

export const fixtures = defineFixtures()
  .add("network", () => definitions.network())
  .add("mysql", ["network"], ({ network }) => definitions.mysql(network))
  // The image is built here rather than in start() so that `up` shows the build, and `up --keep` keeps the image
  // with the container (the next `up` then finds both).
  .add("usersService", ["network", "mysql"], async ({ network, mysql }, { keep, onProgress }) =>
    definitions.usersService(network, mysql).withBuiltImage(await buildUsersServiceImage({ keep, onProgress })),
  );

/** The started environment: `network`, `mysql`, `usersService`, and `stop()` (service, then MySQL, then network). */
export type UsersEnvironment = Awaited<ReturnType<typeof fixtures.start>>;

/** Starts the whole environment (see the file comment). */
export default function up(): Promise<UsersEnvironment> {
  return fixtures.start();
}
