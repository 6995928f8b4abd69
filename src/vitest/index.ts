/**
 * `throwaway/vitest`: containers as vitest fixtures (per test, file or worker), containers shared by the whole run
 * through `globalSetup`, and container logs in the output of failing tests.
 */
export {
  type ContainerFixture,
  type ContainerFixtureOptions,
  containerFixture,
  type StartedContainerFixture,
  startedContainer,
  type Use,
} from "./container-fixture.js";
export { DEFAULT_FAILURE_LOG_LINES } from "./failure-logs.js";
export {
  type ContainerInfo,
  containerInfo,
  type DefaultContainerInfo,
  defineGlobalSetup,
  type GlobalContainerDefinition,
  type GlobalContainerDefinitions,
  type GlobalContainers,
  type GlobalSetup,
  type ProvidedBy,
  type StartedGlobalContainers,
  startGlobal,
} from "./global-setup.js";
export {
  MYSQL_FIXTURE_SNAPSHOT,
  type MySqlFixtureDefinitions,
  type MySqlFixtureOptions,
  type MySqlFixtures,
  mysqlFixtures,
} from "./mysql.js";
export type { ContainerFactory, ContainerStarter, FailureLogOptions, FixtureScope } from "./options.js";
