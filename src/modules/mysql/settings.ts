import { InvalidOptionError } from "../../errors.js";

/** The image `new MySqlContainer()` runs. */
export const DEFAULT_MYSQL_IMAGE = "mysql:5.7";
/** The port MySQL listens on inside its container. */
export const MYSQL_PORT = 3306;
/** Defaults of the database, the user and both passwords (testcontainers' values, so existing settings carry over). */
export const MYSQL_DEFAULTS = { database: "test", username: "test", userPassword: "test", rootPassword: "test" } as const;

/** Schemas throwaway keeps snapshots in start with this; `withDatabase` refuses it. */
export const SNAPSHOT_SCHEMA_PREFIX = "__throwaway_snapshot_";

/** What `MySqlContainer`'s `with*` methods record, unvalidated: checked once, at `start()`. */
export interface RawMySqlSettings {
  database: unknown;
  username: unknown;
  userPassword: unknown;
  rootPassword: unknown;
  configs: unknown[];
  serverArgs: unknown[];
}

export function emptyRawMySqlSettings(): RawMySqlSettings {
  return { database: undefined, username: undefined, userPassword: undefined, rootPassword: undefined, configs: [], serverArgs: [] };
}

/** The validated settings a started container is described by. */
export interface MySqlSettings {
  database: string;
  /** The user connections, `executeQuery` and the readiness check use. */
  username: string;
  /** That user's password (for root: the root password). */
  userPassword: string;
  rootPassword: string;
  /** True when the configured user is root: the image then creates no other user. */
  isRoot: boolean;
  /** `my.cnf` fragments, in the order given. */
  configs: string[];
  serverArgs: string[];
}

/**
 * The environment variables of the official image's contract that MySqlContainer sets from its own options;
 * setting them with `withEnvironment` as well would make the getters lie, so it is refused. The MariaDB image's own
 * names are included: they win over the MYSQL_ ones there.
 */
export const MANAGED_ENVIRONMENT = [
  "MYSQL_DATABASE",
  "MYSQL_USER",
  "MYSQL_PASSWORD",
  "MYSQL_ROOT_PASSWORD",
  "MYSQL_ALLOW_EMPTY_PASSWORD",
  "MYSQL_RANDOM_ROOT_PASSWORD",
  "MYSQL_DATABASE_FILE",
  "MYSQL_USER_FILE",
  "MYSQL_PASSWORD_FILE",
  "MYSQL_ROOT_PASSWORD_FILE",
  "MARIADB_DATABASE",
  "MARIADB_USER",
  "MARIADB_PASSWORD",
  "MARIADB_ROOT_PASSWORD",
  "MARIADB_ALLOW_EMPTY_ROOT_PASSWORD",
  "MARIADB_RANDOM_ROOT_PASSWORD",
] as const;

const MANAGED_BY: Record<string, string> = {
  DATABASE: "withDatabase",
  USER: "withUsername",
  PASSWORD: "withUserPassword",
  ROOT_PASSWORD: "withRootPassword",
  ALLOW_EMPTY_PASSWORD: 'withRootPassword("")',
  ALLOW_EMPTY_ROOT_PASSWORD: 'withRootPassword("")',
  RANDOM_ROOT_PASSWORD: "withRootPassword",
};

const SYSTEM_SCHEMAS = new Set(["mysql", "information_schema", "performance_schema", "sys"]);

/**
 * Validates the recorded settings; throws {@link InvalidOptionError} for the first problem, naming the option, the
 * value (never a password) and the fix. `environment` is what the user passed to `withEnvironment`, minus what the
 * module itself set on an earlier start.
 */
export function normalizeMySqlSettings(raw: RawMySqlSettings, environment: Record<string, unknown> = {}): MySqlSettings {
  for (const key of MANAGED_ENVIRONMENT) {
    if (key in environment) {
      const suffix = key.replace(/^(MYSQL|MARIADB)_/, "").replace(/_FILE$/, "");
      throw new InvalidOptionError("withEnvironment", "free of the variables MySqlContainer sets itself", key, {
        hint: `use ${MANAGED_BY[suffix] ?? "the MySqlContainer options"} instead`,
      });
    }
  }

  const database = validateName("withDatabase", raw.database ?? MYSQL_DEFAULTS.database, 64);
  if (SYSTEM_SCHEMAS.has(database.toLowerCase())) {
    throw new InvalidOptionError("withDatabase", "a database of your own (not a system schema)", database, {
      hint: "pick another name, e.g. `test`",
    });
  }
  if (database.startsWith(SNAPSHOT_SCHEMA_PREFIX)) {
    throw new InvalidOptionError("withDatabase", `a name not starting with \`${SNAPSHOT_SCHEMA_PREFIX}\` (kept for snapshots)`, database);
  }
  const username = validateName("withUsername", raw.username ?? MYSQL_DEFAULTS.username, 32);
  const isRoot = username === "root";
  const userPassword = raw.userPassword === undefined ? undefined : validatePassword("withUserPassword", raw.userPassword);
  const rootPassword = raw.rootPassword === undefined ? undefined : validatePassword("withRootPassword", raw.rootPassword);

  let settings: Pick<MySqlSettings, "userPassword" | "rootPassword">;
  if (isRoot) {
    // The image refuses MYSQL_USER=root: root is the user, with root's one password.
    if (userPassword !== undefined && rootPassword !== undefined && userPassword !== rootPassword) {
      throw new InvalidOptionError("withUsername", "a user other than root when withUserPassword and withRootPassword differ", username, {
        hint: "root has one password: set it with withRootPassword only",
      });
    }
    const password = rootPassword ?? userPassword ?? MYSQL_DEFAULTS.rootPassword;
    settings = { userPassword: password, rootPassword: password };
  } else {
    const password = userPassword ?? MYSQL_DEFAULTS.userPassword;
    if (password === "") {
      throw new InvalidOptionError("withUserPassword", `a non-empty password for user ${JSON.stringify(username)}`, password, {
        hint: 'the image creates no user without a password; for a password-less login use withUsername("root") with withRootPassword("")',
      });
    }
    settings = { userPassword: password, rootPassword: rootPassword ?? MYSQL_DEFAULTS.rootPassword };
  }

  const configs = raw.configs.map((config, index) => validateConfig(config, index));
  const serverArgs = raw.serverArgs.map((arg) => {
    if (typeof arg !== "string" || !/^-{1,2}[A-Za-z]/.test(arg)) {
      throw new InvalidOptionError("withServerArgs", "server options such as `--max-connections=50`", arg, {
        hint: 'write each option as "--name=value", one array item per option',
      });
    }
    return arg;
  });
  return { database, username, isRoot, configs, serverArgs, ...settings };
}

/** The official image's environment for these settings. */
export function mysqlEnvironment(settings: MySqlSettings): Record<string, string> {
  const env: Record<string, string> = { MYSQL_DATABASE: settings.database };
  if (!settings.isRoot) {
    env.MYSQL_USER = settings.username;
    env.MYSQL_PASSWORD = settings.userPassword;
  }
  if (settings.rootPassword === "") env.MYSQL_ALLOW_EMPTY_PASSWORD = "yes";
  else env.MYSQL_ROOT_PASSWORD = settings.rootPassword;
  return env;
}

function validateName(option: string, value: unknown, maxLength: number): string {
  if (typeof value !== "string" || value === "") throw new InvalidOptionError(option, "a non-empty string", value);
  if (value.length > maxLength) throw new InvalidOptionError(option, `at most ${maxLength} characters long`, value);
  if (value.includes("\0")) throw new InvalidOptionError(option, "a name without NUL characters", value);
  if (value !== value.trimEnd()) throw new InvalidOptionError(option, "a name not ending with spaces (MySQL refuses those)", value);
  return value;
}

function validatePassword(option: string, value: unknown): string {
  if (typeof value !== "string") throw new InvalidOptionError(option, "a string", typeof value === "number" ? "(a number)" : value);
  if (value.includes("\0")) throw new InvalidOptionError(option, "a password without NUL characters", "(hidden)");
  return value;
}

function validateConfig(value: unknown, index: number): string {
  const option = `withConfig(#${index + 1})`;
  if (typeof value !== "string" || value.trim() === "") throw new InvalidOptionError(option, "the non-empty text of a my.cnf file", value);
  // The server refuses a file whose first option has no [group]; catch it here instead of in a dead container.
  const first = value
    .split(/\r?\n/)
    .map((line) => line.trim())
    .find((line) => line !== "" && !line.startsWith("#") && !line.startsWith(";") && !line.startsWith("!"));
  if (first !== undefined && !first.startsWith("[")) {
    throw new InvalidOptionError(option, "my.cnf text that starts with a group", first, {
      hint: 'put a group such as "[mysqld]" before the first option',
    });
  }
  return value;
}
