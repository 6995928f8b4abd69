import { ThrowawayError, type ThrowawayErrorOptions } from "../../errors.js";

/** The parts of a mysql2 error worth carrying: its symbolic code, number, SQLSTATE and the server's text. */
export interface MySqlErrorFacts {
  /** mysql2's symbolic code, e.g. `ER_ACCESS_DENIED_ERROR`, `ECONNREFUSED`. */
  mysqlCode: string | undefined;
  /** The server's error number, e.g. `1045`. */
  errno: number | undefined;
  sqlState: string | undefined;
  /** The server's (or socket's) message, without the statement. */
  sqlMessage: string;
}

/** Reads what a mysql2 (or socket) error says, whatever its shape. */
export function mysqlErrorFacts(error: unknown): MySqlErrorFacts {
  const e = (error ?? {}) as { code?: unknown; errno?: unknown; sqlState?: unknown; sqlMessage?: unknown; message?: unknown };
  return {
    mysqlCode: typeof e.code === "string" ? e.code : undefined,
    errno: typeof e.errno === "number" ? e.errno : undefined,
    sqlState: typeof e.sqlState === "string" ? e.sqlState : undefined,
    sqlMessage: String(e.sqlMessage ?? e.message ?? error),
  };
}

/** Where a connection went: never the password. */
export interface MySqlEndpoint {
  user: string;
  host: string;
  port: number;
  database: string | undefined;
}

/** `"test" at 127.0.0.1:32771 (database "test")`: how messages name a connection. */
export function describeEndpoint(endpoint: MySqlEndpoint): string {
  const database = endpoint.database ? ` (database ${JSON.stringify(endpoint.database)})` : "";
  return `${JSON.stringify(endpoint.user)} at ${endpoint.host}:${endpoint.port}${database}`;
}

/**
 * Connecting to MySQL failed: wrong password, unknown user or database, nothing listening. The message names the
 * user, host, port and database, never the password.
 */
export class MySqlConnectionError extends ThrowawayError {
  static readonly CODE = "THROWAWAY_MYSQL_CONNECTION";
  readonly code = MySqlConnectionError.CODE;
  readonly user: string;
  readonly host: string;
  readonly port: number;
  readonly database: string | undefined;
  readonly mysqlCode: string | undefined;
  readonly errno: number | undefined;
  readonly sqlState: string | undefined;

  constructor(shortMessage: string, options: ThrowawayErrorOptions & MySqlEndpoint & Partial<MySqlErrorFacts>) {
    super(shortMessage, options);
    this.user = options.user;
    this.host = options.host;
    this.port = options.port;
    this.database = options.database;
    this.mysqlCode = options.mysqlCode;
    this.errno = options.errno;
    this.sqlState = options.sqlState;
  }
}

/**
 * A statement run by throwaway on your behalf failed: `executeQuery`, `executeScript`, `snapshot` or `restore`.
 * `mysqlCode`/`errno`/`sqlState` are the server's; `sql` is the statement (for scripts: the one that failed).
 */
export class MySqlQueryError extends ThrowawayError {
  static readonly CODE = "THROWAWAY_MYSQL_QUERY";
  readonly code = MySqlQueryError.CODE;
  readonly mysqlCode: string | undefined;
  readonly errno: number | undefined;
  readonly sqlState: string | undefined;
  readonly sql: string | undefined;

  constructor(shortMessage: string, options: ThrowawayErrorOptions & Partial<MySqlErrorFacts> & { sql?: string }) {
    super(shortMessage, options);
    this.mysqlCode = options.mysqlCode;
    this.errno = options.errno;
    this.sqlState = options.sqlState;
    this.sql = options.sql;
  }
}

for (const cls of [MySqlConnectionError, MySqlQueryError]) {
  Object.defineProperty(cls.prototype, "name", { value: cls.name, enumerable: false, configurable: true });
}
