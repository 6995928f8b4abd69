import { setTimeout as sleep } from "node:timers/promises";
import mysql, { type Pool, type RowDataPacket } from "mysql2/promise";
import type { Config } from "./config.js";

/** A user as the API shows it: never the password hash. */
export interface User {
  userId: string;
  email: string;
  name: string;
}

/** What `POST /users` stores. */
export interface NewUserRow extends User {
  encryptedPwd: string;
}

/** The storage the HTTP layer needs; {@link MySqlUserStore} is the real one. */
export interface UserStore {
  /** Inserts a user; rejects with {@link DuplicateEmailError} when the email is taken. */
  create(user: NewUserRow): Promise<void>;
  list(): Promise<User[]>;
  findByUserId(userId: string): Promise<User | undefined>;
  /** The `userId` and hash for a login; `undefined` for an unknown email. */
  findCredentials(email: string): Promise<{ userId: string; encryptedPwd: string } | undefined>;
  /** Resolves when the database answers; used by the health check. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export class DuplicateEmailError extends Error {
  override name = "DuplicateEmailError";
  constructor(readonly email: string) {
    super(`a user with email ${email} already exists`);
  }
}

/** The table, in the shape the course's JPA entity `UserEntity` mapped to (plus named unique keys). */
export const USERS_TABLE = `CREATE TABLE IF NOT EXISTS users (
  id BIGINT NOT NULL AUTO_INCREMENT,
  email VARCHAR(50) NOT NULL,
  name VARCHAR(50) NOT NULL,
  user_id VARCHAR(36) NOT NULL,
  encrypted_pwd VARCHAR(255) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uk_users_email (email),
  UNIQUE KEY uk_users_user_id (user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`;

// Errors that mean "not reachable yet" (MySQL still initialising, its container not on the network yet): retried.
// Anything else (wrong password, no such database) will not fix itself and fails at once.
const TRANSIENT = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "PROTOCOL_CONNECTION_LOST",
  "ER_CON_COUNT_ERROR",
  "ER_SERVER_SHUTDOWN",
  "ER_SERVER_ISNT_AVAILABLE",
]);

export function isTransient(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && TRANSIENT.has(code);
}

export interface ConnectOptions {
  /** Called before each retry, with the attempt number and why the last one failed. */
  onRetry?: (attempt: number, reason: string) => void;
  signal?: AbortSignal;
}

export class MySqlUserStore implements UserStore {
  private constructor(private readonly pool: Pool) {}

  /**
   * Waits (up to `db.connectTimeoutMs`) until MySQL accepts a connection, creates the database and the `users`
   * table when missing, and returns the store over a connection pool.
   */
  static async connect(db: Config["db"], options: ConnectOptions = {}): Promise<MySqlUserStore> {
    const deadline = Date.now() + db.connectTimeoutMs;
    const where = `${db.user}@${db.host}:${db.port}`;
    for (let attempt = 1; ; attempt++) {
      try {
        await createDatabase(db);
        break;
      } catch (error) {
        const reason = (error as Error).message || String(error);
        if (!isTransient(error)) throw new Error(`MySQL at ${where} refused: ${reason}`, { cause: error });
        if (Date.now() >= deadline) {
          throw new Error(`MySQL at ${where} was not reachable within ${db.connectTimeoutMs} ms (${attempt} attempts): ${reason}`, {
            cause: error,
          });
        }
        options.onRetry?.(attempt, reason);
        // Short first: MySQL often answers within a second. Capped so a slow start is noticed quickly.
        await sleep(Math.min(100 * 2 ** (attempt - 1), 1000, Math.max(deadline - Date.now(), 0)), undefined, {
          ...(options.signal ? { signal: options.signal } : {}),
        });
      }
    }
    const pool = mysql.createPool({
      host: db.host,
      port: db.port,
      user: db.user,
      password: db.password,
      database: db.database,
      charset: "utf8mb4",
      connectionLimit: 10,
      connectTimeout: 5000,
      enableKeepAlive: true,
    });
    try {
      await pool.query(USERS_TABLE);
    } catch (error) {
      await pool.end().catch(() => {});
      throw error;
    }
    return new MySqlUserStore(pool);
  }

  async create(user: NewUserRow): Promise<void> {
    try {
      await this.pool.execute("INSERT INTO users (email, name, user_id, encrypted_pwd) VALUES (?, ?, ?, ?)", [
        user.email,
        user.name,
        user.userId,
        user.encryptedPwd,
      ]);
    } catch (error) {
      const e = error as { code?: string; message?: string };
      if (e.code === "ER_DUP_ENTRY" && e.message?.includes("uk_users_email")) throw new DuplicateEmailError(user.email);
      throw error;
    }
  }

  async list(): Promise<User[]> {
    const [rows] = await this.pool.query<RowDataPacket[]>("SELECT user_id, email, name FROM users ORDER BY id");
    return rows.map(toUser);
  }

  async findByUserId(userId: string): Promise<User | undefined> {
    const [rows] = await this.pool.execute<RowDataPacket[]>("SELECT user_id, email, name FROM users WHERE user_id = ?", [userId]);
    return rows[0] ? toUser(rows[0]) : undefined;
  }

  async findCredentials(email: string): Promise<{ userId: string; encryptedPwd: string } | undefined> {
    const [rows] = await this.pool.execute<RowDataPacket[]>("SELECT user_id, encrypted_pwd FROM users WHERE email = ?", [email]);
    const row = rows[0];
    return row ? { userId: String(row.user_id), encryptedPwd: String(row.encrypted_pwd) } : undefined;
  }

  async ping(): Promise<void> {
    await this.pool.query("SELECT 1");
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** One short-lived connection without a database, so a missing database can be created before the pool uses it. */
async function createDatabase(db: Config["db"]): Promise<void> {
  const connection = await mysql.createConnection({
    host: db.host,
    port: db.port,
    user: db.user,
    password: db.password,
    connectTimeout: 5000,
  });
  try {
    await connection.query(`CREATE DATABASE IF NOT EXISTS \`${db.database}\` CHARACTER SET utf8mb4`);
  } catch (error) {
    // A user without CREATE rights on an existing database is fine; the pool's first query will tell otherwise.
    if ((error as { code?: string }).code !== "ER_DBACCESS_DENIED_ERROR") throw error;
  } finally {
    await connection.end().catch(() => connection.destroy());
  }
}

function toUser(row: RowDataPacket): User {
  return { userId: String(row.user_id), email: String(row.email), name: String(row.name) };
}
