export { MySqlConnectionError, MySqlQueryError } from "./errors.js";
export type { InitScript } from "./init-scripts.js";
export { DEFAULT_MYSQL_STARTUP_TIMEOUT_MS, MySqlContainer } from "./mysql-container.js";
export { DEFAULT_MYSQL_IMAGE, MYSQL_DEFAULTS, MYSQL_PORT } from "./settings.js";
export type { RestoreResult, SnapshotResult } from "./snapshot.js";
export {
  type MySqlConnectionOverrides,
  type MySqlIdentity,
  type MySqlPoolOverrides,
  type QueryParams,
  StartedMySqlContainer,
} from "./started-mysql-container.js";
export { type MySqlLogin, MySqlReadyWaitStrategy } from "./wait.js";
