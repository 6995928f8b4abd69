import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import type mysql from "mysql2/promise";
import {
  type ConnectionInfo,
  type ContainerHandleState,
  StartedContainer,
  type StopOptions,
  type StoppedContainer,
} from "../../container/started-container.js";
import type { GracePeriod } from "../../container/stop-timeout.js";
import { InvalidOptionError } from "../../errors.js";
import { ConnectionRegistry, connectionError, endpointOf, InternalConnection, loadedMysql2, openConnection } from "./connections.js";
import { MySqlQueryError, mysqlErrorFacts } from "./errors.js";
import { splitSqlScript } from "./script.js";
import { MYSQL_PORT, type MySqlSettings } from "./settings.js";
import { prepareSnapshotSession, type RestoreResult, SnapshotManager, type SnapshotResult } from "./snapshot.js";

/** Which identity a connection logs in as. */
export interface MySqlIdentity {
  /** Log in as root (with the root password) instead of the configured user. Default `false`. */
  root?: boolean;
}

/** mysql2 connection options to merge over the container's own (host, port, user, password, database). */
export type MySqlConnectionOverrides = MySqlIdentity & mysql.ConnectionOptions;
/** mysql2 pool options to merge over the container's own. */
export type MySqlPoolOverrides = MySqlIdentity & mysql.PoolOptions;

/** A parameter list for `?` placeholders, as mysql2 takes it (arrays expand to lists, `??` quotes identifiers). */
export type QueryParams = readonly unknown[];

/**
 * A running MySQL: where to connect, ready-made mysql2 connections and pools (closed when the container stops), quick
 * queries and scripts, and snapshots that put the database back in milliseconds.
 */
export class StartedMySqlContainer extends StartedContainer {
  private readonly settings: MySqlSettings;
  private readonly registry = new ConnectionRegistry();
  private readonly userConnection: InternalConnection;
  private readonly rootConnection: InternalConnection;
  /** Snapshots run on a session of their own (UTC, exact-copy sql_mode, multiple statements), never the user's. */
  private readonly adminConnection: InternalConnection;
  private readonly snapshots: SnapshotManager;

  constructor(state: ContainerHandleState, settings: MySqlSettings) {
    super(state);
    this.settings = settings;
    this.userConnection = new InternalConnection(
      () => this.getConnectionOptions(),
      () => this.errorContext,
    );
    this.rootConnection = new InternalConnection(
      () => this.getConnectionOptions({ root: true }),
      () => this.errorContext,
    );
    this.adminConnection = new InternalConnection(
      () => ({ ...this.getConnectionOptions({ root: true }), database: undefined, multipleStatements: true }),
      () => this.errorContext,
      prepareSnapshotSession,
    );
    this.snapshots = new SnapshotManager(this.adminConnection, settings.database, () => this.errorContext);
  }

  /** The host port MySQL's 3306 is published on. */
  getPort(): number {
    return this.getMappedPort(MYSQL_PORT);
  }

  getDatabase(): string {
    return this.settings.database;
  }

  /** The configured user (`root` when `withUsername("root")` was used). */
  getUsername(): string {
    return this.settings.username;
  }

  getUserPassword(): string {
    return this.settings.userPassword;
  }

  /** Root's password; empty when the container was started with `withRootPassword("")`. */
  getRootPassword(): string {
    return this.settings.rootPassword;
  }

  /** Options for `mysql2.createConnection()`/`createPool()`: host, port, user, password and database. */
  getConnectionOptions(
    identity: MySqlIdentity = {},
  ): mysql.ConnectionOptions & { host: string; port: number; user: string; password: string } {
    return {
      host: this.getHost(),
      port: this.getPort(),
      user: identity.root ? "root" : this.settings.username,
      password: identity.root ? this.settings.rootPassword : this.settings.userPassword,
      database: this.settings.database,
    };
  }

  /** `mysql://user:password@host:port/database`, each part URL-encoded (mysql2, Prisma, TypeORM and the CLI take it). */
  getConnectionUri(identity: MySqlIdentity = {}): string {
    const { host, port, user, password, database } = this.getConnectionOptions(identity);
    const credentials = password === "" ? encodeURIComponent(user) : `${encodeURIComponent(user)}:${encodeURIComponent(password)}`;
    return `mysql://${credentials}@${host}:${port}/${encodeURIComponent(database ?? "")}`;
  }

  /** Adds what MySQL clients take: the connection `uri`, `user`, `password` and `database` (`MYSQL_URI`, ... in env files). */
  override connectionInfo(): ConnectionInfo {
    const base = super.connectionInfo();
    const { user, password, database } = this.getConnectionOptions();
    return { ...base, values: { ...base.values, uri: this.getConnectionUri(), user, password, database: database ?? "" } };
  }

  /**
   * A new mysql2/promise connection as the configured user (or root), with `overrides` merged over the container's
   * options. It is closed when the container stops, if still open. A failed login throws
   * {@link MySqlConnectionError} naming the user, host, port and database (never the password).
   */
  async createConnection(overrides: MySqlConnectionOverrides = {}): Promise<mysql.Connection> {
    const { root, ...options } = overrides;
    const connection = await openConnection({ ...this.getConnectionOptions({ root: root ?? false }), ...options }, this.errorContext);
    this.registry.addConnection(connection);
    return connection;
  }

  /**
   * A new mysql2/promise pool as the configured user (or root), `overrides` merged over the container's options. It
   * connects lazily, like any mysql2 pool; it is ended when the container stops, if still open.
   */
  createPool(overrides: MySqlPoolOverrides = {}): mysql.Pool {
    const { root, ...options } = overrides;
    const pool = loadedMysql2().createPool({ ...this.getConnectionOptions({ root: root ?? false }), ...options });
    this.registry.addPool(pool);
    return pool;
  }

  /**
   * Runs one statement as the configured user (or root) and resolves with its rows (`[]` for statements without a
   * result set, such as INSERT). Values go in `?` placeholders, escaped by mysql2, never pasted into the SQL:
   * `executeQuery("SELECT * FROM users WHERE id = ?", [1])`. Calls share one connection per identity, so session
   * state (`SET`, `USE`, an open transaction) carries over between them. Needs `insertId` or several statements?
   * Use {@link createConnection}.
   */
  async executeQuery<Row = Record<string, unknown>>(sql: string, params?: QueryParams, identity: MySqlIdentity = {}): Promise<Row[]> {
    if (typeof sql !== "string" || sql.trim() === "") throw new InvalidOptionError("executeQuery(sql)", "a non-empty SQL statement", sql);
    if (params !== undefined && !Array.isArray(params)) {
      throw new InvalidOptionError("executeQuery(sql, params)", "an array of values for the `?` placeholders", params);
    }
    const internal = identity.root ? this.rootConnection : this.userConnection;
    const connection = await internal.get();
    try {
      const [result] = params === undefined ? await connection.query(sql) : await connection.query(sql, params as unknown[]);
      return Array.isArray(result) ? (result as Row[]) : [];
    } catch (error) {
      throw this.queryError(`executeQuery failed`, error, sql);
    }
  }

  /**
   * Runs a `.sql` file (or `.sql.gz`) statement by statement, as the `mysql` client would: `DELIMITER` lines are
   * honoured, so dumps with triggers and procedures work. It runs on a connection of its own, as the configured user
   * (or root), in the container's database (a `USE` in the script applies to the script only). The first failing
   * statement stops it with a {@link MySqlQueryError} naming the file, the line and the statement.
   */
  async executeScript(path: string | URL, identity: MySqlIdentity = {}): Promise<{ statements: number }> {
    const file = path instanceof URL ? fileURLToPath(path) : typeof path === "string" && path !== "" ? resolve(path) : undefined;
    if (file === undefined) throw new InvalidOptionError("executeScript(path)", "the path of a .sql file", path);
    const content = await readFile(file).catch((error: unknown) => {
      throw new InvalidOptionError("executeScript(path)", "the path of a readable .sql file", String(path), {
        hint: (error as Error).message,
      });
    });
    const text = (file.endsWith(".gz") ? gunzipSync(content) : content).toString("utf8");
    const statements = splitSqlScript(text);
    const connection = await this.createConnection({ root: identity.root ?? false });
    try {
      for (const [index, statement] of statements.entries()) {
        try {
          await connection.query(statement.sql);
        } catch (error) {
          throw this.queryError(
            `executeScript(${JSON.stringify(file)}) failed at line ${statement.line} (statement ${index + 1})`,
            error,
            statement.sql,
          );
        }
      }
    } finally {
      await connection.end().catch(() => connection.destroy());
    }
    return { statements: statements.length };
  }

  /**
   * Captures the database's tables (definitions, rows, auto-increment counters, triggers) and views as snapshot
   * `name` (1-40 letters, digits, `_`; default `default`), replacing an earlier one of that name. The rows are copied
   * into a hidden schema on the same server (`__throwaway_snapshot_<name>`), so take it once, after seeding.
   *
   * Covers the configured database only; not stored procedures, functions, events, users or grants, nor other
   * databases. See {@link restore}.
   */
  async snapshot(name = "default"): Promise<SnapshotResult> {
    return this.snapshots.snapshot(name);
  }

  /**
   * Puts the database back as snapshot `name` was: rows added, changed or deleted, tables emptied, dropped, altered
   * or created, auto-increment counters, triggers and views. Only what changed is touched: tables modified since the
   * last snapshot or restore are found from the server's own metadata and checksums, then refilled from the hidden
   * copy, so a restore costs milliseconds, not a new container.
   *
   * Run it when no other connection is inside a transaction: it waits for their locks at most 10 s (env
   * `THROWAWAY_MYSQL_LOCK_WAIT`, whole seconds), then fails with a {@link MySqlQueryError} saying so. Connections
   * stay open and see the restored data.
   *
   * Limits: the configured database only (not other databases, users or grants); stored procedures, functions and
   * events are neither captured nor restored; a restore made while other connections write is not atomic.
   */
  async restore(name = "default"): Promise<RestoreResult> {
    return this.snapshots.restore(name);
  }

  /** Restarts MySQL (same data, same snapshots), waiting for `SELECT 1` again; open connections are closed first. */
  override async restart(options: GracePeriod = {}): Promise<void> {
    await this.closeConnections();
    this.snapshots.invalidate();
    await super.restart(options);
  }

  /** Closes every connection and pool it handed out (and its own), then stops the container. */
  override async stop(options: StopOptions = {}): Promise<StoppedContainer> {
    await this.closeConnections();
    return super.stop(options);
  }

  private async closeConnections(): Promise<void> {
    await Promise.all([this.registry.closeAll(), this.userConnection.close(), this.rootConnection.close(), this.adminConnection.close()]);
  }

  private queryError(what: string, error: unknown, sql: string): unknown {
    // Connection failures are already clear (and typed); only server answers need wrapping.
    if (error && typeof error === "object" && "shortMessage" in error) return error;
    const facts = mysqlErrorFacts(error);
    if (facts.errno === undefined && facts.mysqlCode && !facts.mysqlCode.startsWith("ER_")) {
      const { host, port, user, database } = this.getConnectionOptions();
      return connectionError(error, endpointOf({ host, port, user, database }), this.errorContext);
    }
    return new MySqlQueryError(`${what}: ${facts.mysqlCode ?? "error"}: ${facts.sqlMessage}`, {
      ...this.errorContext,
      ...facts,
      sql,
      details: `The statement:\n${sql.length > 2000 ? `${sql.slice(0, 2000)}...` : sql}`,
      cause: error,
    });
  }
}
