import type { CopyItem } from "../../container/copy.js";
import { GenericContainer, type StartOptions } from "../../container/generic-container.js";
import { debug } from "../../debug.js";
import { getEngine } from "../../engine/engine.js";
import { InvalidOptionError } from "../../errors.js";
import type { WaitStrategy } from "../../wait/strategy.js";
import { loadMysql2 } from "./connections.js";
import { type InitScript, resolveInitScripts } from "./init-scripts.js";
import { mysqlPlatformFor, needsAmd64OnArm } from "./platform.js";
import {
  DEFAULT_MYSQL_IMAGE,
  emptyRawMySqlSettings,
  MYSQL_PORT,
  type MySqlSettings,
  mysqlEnvironment,
  normalizeMySqlSettings,
  type RawMySqlSettings,
} from "./settings.js";
import { StartedMySqlContainer } from "./started-mysql-container.js";
import { MySqlReadyWaitStrategy } from "./wait.js";

/** MySqlContainer's default startup timeout (ms): a first MySQL 8 start initialises its data for 10-20 s on slow CI. */
export const DEFAULT_MYSQL_STARTUP_TIMEOUT_MS = 120_000;

/** Where `withConfig` files go: every official mysql and mariadb image reads this folder after its own settings. */
const CONFIG_DIR = "/etc/mysql/conf.d";

/** What `beforeStart` added to the generic options, so a second `start()` from the same builder starts clean. */
interface Applied {
  env: Record<string, string>;
  port: unknown;
  copies: CopyItem[];
  command: string[] | undefined;
  waitStrategy: WaitStrategy | undefined;
  startupTimeoutMs: number | undefined;
  platform: string | undefined;
}

const nothingApplied = (): Applied => ({
  env: {},
  port: undefined,
  copies: [],
  command: undefined,
  waitStrategy: undefined,
  startupTimeoutMs: undefined,
  platform: undefined,
});

/**
 * MySQL (default `mysql:5.7`; `mysql:8.x` and `mariadb` images take the same settings) with a database, a user,
 * init scripts and configuration, ready when the configured user can run `SELECT 1`:
 *
 * ```ts
 * await using mysql = await new MySqlContainer().start();
 * const rows = await mysql.executeQuery("SELECT 1 AS one"); // [{ one: 1 }]
 * ```
 *
 * Like every builder, the `with*` values are checked at `start()`, which throws {@link InvalidOptionError} before
 * anything is created (e.g. an empty password for a user other than root).
 */
export class MySqlContainer extends GenericContainer {
  private readonly mysql: RawMySqlSettings = emptyRawMySqlSettings();
  private readonly initScripts: unknown[] = [];
  private applied: Applied = nothingApplied();
  private settings: MySqlSettings | undefined;

  /** @param image a `mysql` or `mariadb` image; default `mysql:5.7`. */
  constructor(image: string = DEFAULT_MYSQL_IMAGE) {
    super(image);
  }

  /** The database created at first start (`MYSQL_DATABASE`), the one connections use. Default `test`. */
  withDatabase(database: string): this {
    this.mysql.database = database;
    return this;
  }

  /**
   * The user created at first start and used by connections, `executeQuery` and the readiness check. Default `test`.
   * `"root"` makes root the user: no other user is created (the image refuses `MYSQL_USER=root`) and the root
   * password applies.
   */
  withUsername(username: string): this {
    this.mysql.username = username;
    return this;
  }

  /** The user's password. Default `test`. Must not be empty unless the user is root. */
  withUserPassword(password: string): this {
    this.mysql.userPassword = password;
    return this;
  }

  /** Root's password. Default `test`; `""` starts MySQL with an empty root password (`MYSQL_ALLOW_EMPTY_PASSWORD`). */
  withRootPassword(password: string): this {
    this.mysql.rootPassword = password;
    return this;
  }

  /**
   * Scripts run once, when the data directory is first created (not after `restart()`), in the order given, through
   * the image's `/docker-entrypoint-initdb.d`: paths (relative to the working directory) or `file:` URLs of
   * `.sql`, `.sql.gz`, `.sql.xz`, `.sql.zst` or `.sh` files, folders of such files (run in name order), or SQL text
   * as `{ sql, name? }`. SQL runs as root in the configured database. Calls append.
   */
  withInitScripts(...scripts: InitScript[]): this {
    this.initScripts.push(...scripts);
    return this;
  }

  /**
   * The text of a `my.cnf` file, e.g. `"[mysqld]\nmax_connections = 50\n"`, read after the image's own settings
   * (as `/etc/mysql/conf.d/zz-throwaway-N.cnf`). Calls add files; later ones win.
   */
  withConfig(myCnf: string): this {
    this.mysql.configs.push(myCnf);
    return this;
  }

  /** Server options on the command line (they win over every file), e.g. `"--max-connections=50"`. Calls append. */
  withServerArgs(...args: string[]): this {
    this.mysql.serverArgs.push(...args);
    return this;
  }

  protected override async beforeStart(): Promise<void> {
    await super.beforeStart();
    this.undoApplied();
    const settings = normalizeMySqlSettings(this.mysql, this.raw.env);
    const scripts = await resolveInitScripts(this.initScripts);
    if (settings.serverArgs.length > 0 && this.raw.command !== undefined) {
      throw new InvalidOptionError("withServerArgs", "used without withCommand (both set the server's command line)", settings.serverArgs, {
        hint: "put the server options in withServerArgs only",
      });
    }
    const applied = nothingApplied();

    applied.env = mysqlEnvironment(settings);
    Object.assign(this.raw.env, applied.env);
    if (!this.raw.exposedPorts.some(isMySqlPort)) {
      applied.port = MYSQL_PORT;
      this.raw.exposedPorts.push(applied.port);
    }
    applied.copies = [
      ...scripts,
      ...settings.configs.map((content, i) => ({
        kind: "content" as const,
        content,
        target: `${CONFIG_DIR}/zz-throwaway-${i + 1}.cnf`,
        mode: 0o644,
      })),
    ];
    this.raw.copies.push(...applied.copies);
    if (settings.serverArgs.length > 0) {
      // Arguments starting with "-" make every official entrypoint start its own server binary (mysqld or mariadbd).
      applied.command = [...settings.serverArgs];
      this.raw.command = applied.command;
    }
    if (this.raw.waitStrategy === undefined) {
      applied.waitStrategy = new MySqlReadyWaitStrategy({
        user: settings.username,
        password: settings.userPassword,
        database: settings.database,
      });
      this.raw.waitStrategy = applied.waitStrategy;
    }
    if (this.raw.startupTimeoutMs === undefined) {
      applied.startupTimeoutMs = DEFAULT_MYSQL_STARTUP_TIMEOUT_MS;
      this.raw.startupTimeoutMs = applied.startupTimeoutMs;
    }
    if (this.raw.platform === undefined && needsAmd64OnArm(this.raw.image)) {
      const engine = await getEngine();
      const platform = mysqlPlatformFor(this.raw.image, (await engine.info()).Architecture);
      if (platform) {
        debug("mysql", `${this.raw.image} is published for amd64 only: running it as ${platform} on this arm64 engine (emulated, slower)`);
        applied.platform = platform;
        this.raw.platform = platform;
      }
    }
    this.applied = applied;
    this.settings = settings;
  }

  /** Takes back what the last `beforeStart` added, leaving what the user set. */
  private undoApplied(): void {
    const applied = this.applied;
    for (const [key, value] of Object.entries(applied.env)) if (this.raw.env[key] === value) delete this.raw.env[key];
    if (applied.port !== undefined) {
      const index = this.raw.exposedPorts.indexOf(applied.port);
      if (index >= 0) this.raw.exposedPorts.splice(index, 1);
    }
    if (applied.copies.length > 0) {
      const ours = new Set<unknown>(applied.copies);
      this.raw.copies = this.raw.copies.filter((copy) => !ours.has(copy));
    }
    if (applied.command !== undefined && this.raw.command === applied.command) this.raw.command = undefined;
    if (applied.waitStrategy !== undefined && this.raw.waitStrategy === applied.waitStrategy) this.raw.waitStrategy = undefined;
    if (applied.startupTimeoutMs !== undefined && this.raw.startupTimeoutMs === applied.startupTimeoutMs)
      this.raw.startupTimeoutMs = undefined;
    if (applied.platform !== undefined && this.raw.platform === applied.platform) this.raw.platform = undefined;
    this.applied = nothingApplied();
  }

  /** Starts MySQL and resolves when the configured user can run `SELECT 1`. */
  override async start(options: StartOptions = {}): Promise<StartedMySqlContainer> {
    // mysql2 loads while the container boots, not after.
    const driver = loadMysql2();
    driver.catch(() => {});
    const state = await this.startContainer(options);
    await driver;
    return new StartedMySqlContainer(state, this.settings!);
  }
}

function isMySqlPort(spec: unknown): boolean {
  if (spec === MYSQL_PORT || spec === `${MYSQL_PORT}` || spec === `${MYSQL_PORT}/tcp`) return true;
  if (typeof spec === "object" && spec !== null) {
    const { container, protocol } = spec as { container?: unknown; protocol?: unknown };
    return container === MYSQL_PORT && (protocol === undefined || protocol === "tcp");
  }
  return false;
}
