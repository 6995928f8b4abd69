import type mysql from "mysql2/promise";
import { debug } from "../../debug.js";
import type { ErrorContext } from "../../errors.js";
import { describeEndpoint, MySqlConnectionError, type MySqlEndpoint, mysqlErrorFacts } from "./errors.js";

/** The parts of mysql2's connection object this module looks at; its typings do not expose them. */
interface CoreConnection {
  _closing?: boolean;
  _fatalError?: unknown;
  _protocolError?: unknown;
  once(event: "end", listener: () => void): unknown;
  on(event: "error", listener: (error: unknown) => void): unknown;
}

let loading: Promise<typeof mysql> | undefined;

/**
 * mysql2, loaded on first need: importing it costs ~50-100 ms, which `start()` overlaps with the container's boot
 * instead of adding it to every import of `throwaway/mysql`.
 */
export function loadMysql2(): Promise<typeof mysql> {
  loading ??= import("mysql2/promise").then((module) => {
    loaded = (module as unknown as { default: typeof mysql }).default ?? module;
    return loaded;
  });
  return loading;
}

let loaded: typeof mysql | undefined;

/** mysql2 when already loaded (`MySqlContainer.start()` makes sure of it), for APIs that are synchronous in mysql2. */
export function loadedMysql2(): typeof mysql {
  if (!loaded) throw new Error("mysql2 is not loaded yet: StartedMySqlContainer is made by MySqlContainer.start()");
  return loaded;
}

function core(connection: mysql.Connection): CoreConnection {
  return (connection as unknown as { connection: CoreConnection }).connection;
}

/** False once mysql2 closed the connection or saw it fail for good (server gone, restart, idle timeout). */
export function isUsable(connection: mysql.Connection): boolean {
  const c = core(connection);
  return !c._closing && !c._fatalError && !c._protocolError;
}

/** What a connect failure means, in words, for the codes users actually meet. */
function explain(code: string | undefined): string {
  switch (code) {
    case "ER_ACCESS_DENIED_ERROR":
      return "access denied (ER_ACCESS_DENIED_ERROR): wrong password, or no such user for this host";
    case "ER_DBACCESS_DENIED_ERROR":
      return "the user may not use this database (ER_DBACCESS_DENIED_ERROR): connect as root, or grant it access";
    case "ER_BAD_DB_ERROR":
      return "no such database (ER_BAD_DB_ERROR): create it first, or connect without { database }";
    case "ECONNREFUSED":
      return "connection refused (ECONNREFUSED): is the container still running?";
    case "ETIMEDOUT":
      return "no answer in time (ETIMEDOUT): is the container still running?";
    case "ER_CON_COUNT_ERROR":
      return "too many connections (ER_CON_COUNT_ERROR): close some, or raise --max-connections with withServerArgs";
    default:
      return code ? `${code}` : "the connection failed";
  }
}

/** A {@link MySqlConnectionError} for a failed connect: user, host, port and database, never the password. */
export function connectionError(error: unknown, endpoint: MySqlEndpoint, context: ErrorContext): MySqlConnectionError {
  const facts = mysqlErrorFacts(error);
  return new MySqlConnectionError(`Connecting to MySQL as ${describeEndpoint(endpoint)} failed: ${explain(facts.mysqlCode)}`, {
    ...context,
    ...endpoint,
    ...facts,
    details: `The server said: ${facts.sqlMessage}`,
    cause: error,
  });
}

/** Opens a mysql2 connection; a failure becomes a {@link MySqlConnectionError}. */
export async function openConnection(options: mysql.ConnectionOptions, context: ErrorContext): Promise<mysql.Connection> {
  try {
    return await (await loadMysql2()).createConnection(options);
  } catch (error) {
    throw connectionError(error, endpointOf(options), context);
  }
}

export function endpointOf(options: mysql.ConnectionOptions | mysql.PoolOptions): MySqlEndpoint {
  return {
    user: options.user ?? "",
    host: options.host ?? "localhost",
    port: options.port ?? 3306,
    database: options.database,
  };
}

/**
 * The connections and pools handed out by a container, closed when it stops: a test that forgets one does not keep
 * the process alive or see "connection lost" errors once the server is gone.
 */
export class ConnectionRegistry {
  private readonly connections = new Set<mysql.Connection>();
  private readonly pools = new Set<mysql.Pool>();

  addConnection(connection: mysql.Connection): void {
    this.connections.add(connection);
    core(connection).once("end", () => this.connections.delete(connection));
  }

  addPool(pool: mysql.Pool): void {
    this.pools.add(pool);
  }

  /** Ends every connection and pool still open; one that does not end within `timeoutMs` is destroyed. */
  async closeAll(timeoutMs = 1000): Promise<void> {
    const connections = [...this.connections];
    const pools = [...this.pools];
    this.connections.clear();
    this.pools.clear();
    await Promise.all([
      ...connections.map((connection) => closeConnection(connection, timeoutMs)),
      ...pools.map(async (pool) => {
        if ((pool.pool as unknown as { _closed?: boolean })._closed) return;
        await withTimeout(pool.end(), timeoutMs).catch((error: unknown) => debug("mysql", `closing a pool: ${String(error)}`));
      }),
    ]);
  }
}

/** Ends a connection politely (COM_QUIT), or destroys it when that does not finish in time. */
export async function closeConnection(connection: mysql.Connection, timeoutMs = 1000): Promise<void> {
  if (core(connection)._closing) return;
  const ended = await withTimeout(connection.end(), timeoutMs).then(
    () => true,
    () => false,
  );
  if (!ended) connection.destroy();
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not done within ${ms} ms`)), ms);
    timer.unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/**
 * One connection per purpose (the configured user's, root's), opened on first use and reopened when it died (after
 * `restart()`, an idle timeout, a failed batch); never shared with user code, so session state stays ours.
 */
export class InternalConnection {
  private current: Promise<mysql.Connection> | undefined;
  private readonly options: () => mysql.ConnectionOptions;
  private readonly context: () => ErrorContext;
  private readonly init: ((connection: mysql.Connection) => Promise<void>) | undefined;

  constructor(options: () => mysql.ConnectionOptions, context: () => ErrorContext, init?: (connection: mysql.Connection) => Promise<void>) {
    this.options = options;
    this.context = context;
    this.init = init;
  }

  async get(): Promise<mysql.Connection> {
    if (this.current) {
      const connection = await this.current.catch(() => undefined);
      if (connection && isUsable(connection)) return connection;
      this.current = undefined;
    }
    const opening = this.open();
    this.current = opening;
    opening.catch(() => {
      if (this.current === opening) this.current = undefined;
    });
    return opening;
  }

  private async open(): Promise<mysql.Connection> {
    const connection = await openConnection(this.options(), this.context());
    // Ours alone: without a listener, a server going away would crash the process with an unhandled 'error'.
    core(connection).on("error", (error) => debug("mysql", `internal connection: ${mysqlErrorFacts(error).sqlMessage}`));
    if (this.init) {
      try {
        await this.init(connection);
      } catch (error) {
        connection.destroy();
        throw error;
      }
    }
    return connection;
  }

  /** Drops the connection (after a failure that may have left session state behind). */
  discard(): void {
    const current = this.current;
    this.current = undefined;
    void current?.then((connection) => connection.destroy()).catch(() => {});
  }

  async close(): Promise<void> {
    const current = this.current;
    this.current = undefined;
    const connection = await current?.catch(() => undefined);
    if (connection) await closeConnection(connection);
  }
}
