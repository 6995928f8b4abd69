import type mysql from "mysql2/promise";
import { ListeningPortsWaitStrategy } from "../../wait/listening-ports.js";
import { PermanentFailure, poll } from "../../wait/poll.js";
import { BaseWaitStrategy, type WaitContext, type WaitTarget } from "../../wait/strategy.js";
import { loadMysql2 } from "./connections.js";
import { mysqlErrorFacts } from "./errors.js";
import { MYSQL_PORT } from "./settings.js";

/** Who the readiness check logs in as. */
export interface MySqlLogin {
  user: string;
  password: string;
  database: string | undefined;
}

/**
 * Server errors after which retrying cannot help: the final server (the only one listening on TCP) has decided.
 * Failing at once turns a 60 s timeout into an immediate, named error.
 */
const PERMANENT = new Set(["ER_ACCESS_DENIED_ERROR", "ER_DBACCESS_DENIED_ERROR", "ER_BAD_DB_ERROR", "ER_NOT_SUPPORTED_AUTH_MODE"]);

/** Cap on one probe's connect, so a half-open socket cannot eat the startup timeout (ms). */
const PROBE_CONNECT_TIMEOUT_MS = 2000;

/**
 * Ready when a real mysql2 connection, logged in as the configured user, runs `SELECT 1`. The listening-ports check
 * runs first: it is nearly free and filters out the entrypoint's temporary init server, which runs with
 * `--skip-networking` (its "ready for connections" log line fools log-based waits). Probes then back off from 5 ms
 * to 50 ms. A wrong password or a missing database fails at once instead of at the timeout. Works again after
 * `restart()`: it only uses the target's current host and port.
 */
export class MySqlReadyWaitStrategy extends BaseWaitStrategy {
  readonly login: MySqlLogin;
  readonly port: number;

  constructor(login: MySqlLogin, port = MYSQL_PORT) {
    super();
    this.login = login;
    this.port = port;
  }

  describe(): string {
    const database = this.login.database ? ` (database ${JSON.stringify(this.login.database)})` : "";
    return `mysql "SELECT 1" as ${JSON.stringify(this.login.user)} on ${this.port}/tcp${database}`;
  }

  async waitUntilReady(target: WaitTarget, context: WaitContext): Promise<void> {
    const mysql2 = loadMysql2(); // loads while the ports come up
    await new ListeningPortsWaitStrategy([this.port]).waitUntilReady(target, context);
    const driver = await mysql2;
    const host = target.host;
    const port = target.mappedPort(this.port, "tcp");
    await poll(context, () => this.probe(driver, host, port, context), { minIntervalMs: 5, maxIntervalMs: 50, factor: 1.5 });
  }

  private async probe(driver: typeof mysql, host: string, port: number, context: WaitContext): Promise<void> {
    let connection: mysql.Connection | undefined;
    const onAbort = () => connection?.destroy();
    context.signal.addEventListener("abort", onAbort, { once: true });
    try {
      connection = await driver.createConnection({
        host,
        port,
        user: this.login.user,
        password: this.login.password,
        ...(this.login.database ? { database: this.login.database } : {}),
        connectTimeout: Math.max(100, Math.min(PROBE_CONNECT_TIMEOUT_MS, context.deadline - Date.now())),
      });
      // Probes never outlive their connection: an 'error' after the answer must not reach the process.
      (connection as unknown as { connection: { on(e: "error", l: () => void): void } }).connection.on("error", () => {});
      await connection.query("SELECT 1");
      // A polite quit, not awaited: a dropped socket would leave an "Aborted connection" warning in the server log.
      const done = connection;
      connection = undefined;
      done.end().catch(() => done.destroy());
    } catch (error) {
      const facts = mysqlErrorFacts(error);
      const reason = `${facts.mysqlCode ?? "error"}: ${facts.sqlMessage}`;
      if (facts.mysqlCode && PERMANENT.has(facts.mysqlCode)) {
        throw new PermanentFailure(`MySQL refused ${JSON.stringify(this.login.user)}: ${reason}`);
      }
      throw new Error(reason);
    } finally {
      context.signal.removeEventListener("abort", onAbort);
      connection?.destroy();
    }
  }
}
