import { env } from "../../config.js";
import { GenericContainer, type StartOptions, type WarmStartProfile } from "../../container/generic-container.js";
import type { ModuleDefaults } from "../../container/module-defaults.js";
import type { ContainerHandleState } from "../../container/started-container.js";
import { debug } from "../../debug.js";
import { getEngine } from "../../engine/current.js";
import { InvalidOptionError } from "../../errors.js";
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

/**
 * The data directory with warm starts on: outside the image's `VOLUME /var/lib/mysql`, which `docker commit` does not
 * capture, so the initialised data lands in the cache image.
 */
export const WARM_DATADIR = "/var/lib/throwaway-mysql";

/** Part of the warm-start cache address: bump it when what this module does at initialisation changes. */
const MYSQL_INIT_VERSION = "mysql-init-1";

/** MySqlContainer's defaults for one start, and the settings its started container reports. */
interface MySqlDefaults extends ModuleDefaults {
  settings: MySqlSettings;
}

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
export class MySqlContainer extends GenericContainer<StartedMySqlContainer> {
  private readonly mysql: RawMySqlSettings = emptyRawMySqlSettings();
  private readonly initScripts: unknown[] = [];

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

  /** Env, port 3306, init scripts and config files, server args, the `SELECT 1` wait and its timeout; the user's win. */
  protected override async moduleDefaults(): Promise<MySqlDefaults> {
    const settings = normalizeMySqlSettings(this.mysql, this.raw.env);
    const scripts = await resolveInitScripts(this.initScripts);
    if (settings.serverArgs.length > 0 && this.raw.command !== undefined) {
      throw new InvalidOptionError("withServerArgs", "used without withCommand (both set the server's command line)", settings.serverArgs, {
        hint: "put the server options in withServerArgs only",
      });
    }
    const defaults: MySqlDefaults = {
      settings,
      env: mysqlEnvironment(settings),
      exposedPorts: [MYSQL_PORT],
      copies: [
        ...scripts,
        ...settings.configs.map((content, i) => ({
          kind: "content" as const,
          content,
          target: `${CONFIG_DIR}/zz-throwaway-${i + 1}.cnf`,
          mode: 0o644,
        })),
      ],
      waitStrategy: new MySqlReadyWaitStrategy({ user: settings.username, password: settings.userPassword, database: settings.database }),
      startupTimeoutMs: DEFAULT_MYSQL_STARTUP_TIMEOUT_MS,
    };
    // Arguments starting with "-" make every official entrypoint start its own server binary (mysqld or mariadbd).
    if (settings.serverArgs.length > 0) defaults.command = [...settings.serverArgs];
    if (this.raw.warmStart && env.warmStartEnabled() && this.raw.command === undefined) {
      defaults.command = [...settings.serverArgs, `--datadir=${WARM_DATADIR}`];
    }
    if (this.raw.platform === undefined && needsAmd64OnArm(this.raw.image)) {
      const engine = await getEngine();
      const platform = mysqlPlatformFor(this.raw.image, (await engine.info()).Architecture);
      if (platform) {
        debug("mysql", `${this.raw.image} is published for amd64 only: running it as ${platform} on this arm64 engine (emulated, slower)`);
        defaults.platform = platform;
      }
    }
    return defaults;
  }

  /**
   * Captured after a clean shutdown (the server flushes everything, so the next boot runs no crash recovery), then
   * started again for the caller. `auto.cnf` (MySQL's server_uuid) is deleted first: each warm container makes its
   * own. MariaDB has no such file.
   */
  protected override warmStartProfile(): WarmStartProfile {
    return {
      version: MYSQL_INIT_VERSION,
      cleanStop: true,
      beforeCapture: async (started) => {
        await started.exec(["rm", "-f", `${WARM_DATADIR}/auto.cnf`]);
      },
    };
  }

  protected override createStarted(state: ContainerHandleState, defaults: MySqlDefaults): StartedMySqlContainer {
    return new StartedMySqlContainer(state, defaults.settings);
  }

  /** Starts MySQL and resolves when the configured user can run `SELECT 1`. */
  override async start(options: StartOptions = {}): Promise<StartedMySqlContainer> {
    // mysql2 loads while the container boots, not after.
    const driver = loadMysql2();
    driver.catch(() => {});
    const started = await super.start(options);
    await driver;
    return started;
  }
}
