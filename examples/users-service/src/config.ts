/**
 * The service's settings, all from the environment (the container is configured with `-e`, as the course's
 * services were). Every value is checked at startup, so a typo stops the service with one clear line instead of
 * failing on the first request.
 */
export interface Config {
  /** `PORT`: the HTTP port. Default 8080. */
  port: number;
  db: {
    /** `DB_HOST`: MySQL's host name (a network alias such as `mysql` in containers). Default `mysql`. */
    host: string;
    /** `DB_PORT`. Default 3306. */
    port: number;
    /** `DB_USER`. Default `root`. */
    user: string;
    /** `DB_PASSWORD`. Default empty (the course's MySQL ran with `MYSQL_ALLOW_EMPTY_PASSWORD`). */
    password: string;
    /** `DB_NAME`: created at start when missing and the user may create it. Default `users_service`. */
    database: string;
    /** `DB_CONNECT_TIMEOUT_MS`: how long startup keeps retrying while MySQL is not reachable yet. Default 60000. */
    connectTimeoutMs: number;
  };
  token: {
    /**
     * `TOKEN_SECRET`: the HMAC-SHA256 key for login tokens, at least 32 characters. Default: a random key made at
     * start (tokens then stop verifying after a restart; the service warns).
     */
    secret: string;
    /** True when the secret was generated because `TOKEN_SECRET` was unset. */
    generated: boolean;
    /** `TOKEN_EXPIRATION_MS`: token lifetime. Default 86400000 (one day, as the course's `token.expiration_time`). */
    expirationMs: number;
  };
  /** `GREETING_MESSAGE`: what `GET /welcome` says. Default `Welcome to the Simple E-commerce.` */
  greeting: string;
}

/** A setting that cannot be used; `main` prints the message and exits 1. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

const MIN_SECRET_LENGTH = 32;

/** Reads and checks the settings from `env`; `randomSecret` supplies the key when `TOKEN_SECRET` is unset. */
export function readConfig(env: NodeJS.ProcessEnv, randomSecret: () => string): Config {
  const secret = optional(env, "TOKEN_SECRET");
  if (secret !== undefined && secret.length < MIN_SECRET_LENGTH) {
    throw new ConfigError(`TOKEN_SECRET must be at least ${MIN_SECRET_LENGTH} characters for HMAC-SHA256, got ${secret.length}`);
  }
  return {
    port: integer(env, "PORT", 8080, 1, 65535),
    db: {
      host: optional(env, "DB_HOST") ?? "mysql",
      port: integer(env, "DB_PORT", 3306, 1, 65535),
      user: optional(env, "DB_USER") ?? "root",
      // Not trimmed and may be empty: a password is taken exactly as given.
      password: env.DB_PASSWORD ?? "",
      database: identifier(env, "DB_NAME", "users_service"),
      connectTimeoutMs: integer(env, "DB_CONNECT_TIMEOUT_MS", 60_000, 0, 3_600_000),
    },
    token: {
      secret: secret ?? randomSecret(),
      generated: secret === undefined,
      expirationMs: integer(env, "TOKEN_EXPIRATION_MS", 86_400_000, 1000, 365 * 86_400_000),
    },
    greeting: env.GREETING_MESSAGE ?? "Welcome to the Simple E-commerce.",
  };
}

function optional(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** Database names go into `CREATE DATABASE` unquoted-safe, so only plain identifiers are accepted. */
function identifier(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  if (!/^[A-Za-z0-9_]{1,64}$/.test(raw)) {
    throw new ConfigError(`${name} must be 1-64 letters, digits or underscores, got ${JSON.stringify(raw)}`);
  }
  return raw;
}
