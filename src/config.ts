import { durationFromEnv } from "./duration.js";
import { InvalidOptionError } from "./errors.js";

/**
 * Environment variables throwaway reads. Each is read when used (not at import), so tests and CLIs can set them
 * late; each bad value throws an {@link InvalidOptionError} naming the variable.
 */
export const env = {
  /** `THROWAWAY_HOST_OVERRIDE`: the host tests connect to, instead of the one derived from the engine. */
  hostOverride: () => nonEmpty("THROWAWAY_HOST_OVERRIDE"),
  /** `THROWAWAY_HUB_IMAGE_NAME_PREFIX`: a registry (and path) put before every Docker Hub image. */
  hubImagePrefix: () => nonEmpty("THROWAWAY_HUB_IMAGE_NAME_PREFIX"),
  /** `THROWAWAY_STARTUP_TIMEOUT_SCALE`: multiplies every startup timeout (slow CI). Default 1. */
  startupTimeoutScale: () => positiveNumber("THROWAWAY_STARTUP_TIMEOUT_SCALE", 1),
  /** `THROWAWAY_KEEP_ON_FAILURE`: keep a container whose start failed, for debugging. Default off. */
  keepOnFailure: () => flag("THROWAWAY_KEEP_ON_FAILURE"),
  /** `THROWAWAY_REAPER`: `on` (default) or `off` for engines that cannot host the reaper. */
  reaperEnabled: () => {
    const value = nonEmpty("THROWAWAY_REAPER")?.toLowerCase();
    if (value === undefined || value === "on" || value === "true" || value === "1") return true;
    if (value === "off" || value === "false" || value === "0") return false;
    throw new InvalidOptionError("THROWAWAY_REAPER", "`on` or `off`", process.env.THROWAWAY_REAPER);
  },
  /**
   * `THROWAWAY_REAPER_DIR`: the private folder of the watchdogs' sockets and logs. Set by throwaway itself for the
   * processes a run starts (so they find the folder its first process chose); not meant to be set by hand.
   */
  reaperDir: () => nonEmpty("THROWAWAY_REAPER_DIR"),
  /**
   * `THROWAWAY_REUSE`: `false` turns every `withReuse()` off (e.g. in CI: each run gets fresh containers that are
   * removed as usual); `true` or unset honours `withReuse()` where it is asked for. Like testcontainers'
   * `TESTCONTAINERS_REUSE_ENABLE`.
   */
  reuseEnabled: () => nonEmpty("THROWAWAY_REUSE") === undefined || flag("THROWAWAY_REUSE"),
  /**
   * `THROWAWAY_WARM_START`: `false` turns every `withWarmStart()` off (each start initialises afresh and nothing is
   * cached); `true` or unset honours `withWarmStart()` where it is asked for.
   */
  warmStartEnabled: () => nonEmpty("THROWAWAY_WARM_START") === undefined || flag("THROWAWAY_WARM_START"),
  /** `THROWAWAY_PULL_TIMEOUT`: ms a pull may take before it fails. Default 300000 (5 min). */
  pullTimeoutMs: () => durationFromEnv("THROWAWAY_PULL_TIMEOUT", 300_000),
  /** `THROWAWAY_BUILD_TIMEOUT`: ms a build may take, unless `withBuildTimeout` says otherwise. */
  buildTimeoutMs: (fallback: number) => durationFromEnv("THROWAWAY_BUILD_TIMEOUT", fallback),
  /** `THROWAWAY_PUSH_TIMEOUT`: ms a push may take, unless `push({ timeoutMs })` says otherwise. */
  pushTimeoutMs: (fallback: number) => durationFromEnv("THROWAWAY_PUSH_TIMEOUT", fallback),
  /** `THROWAWAY_REAPER_GRACE`: ms the watchdog waits for a process of the session to come back (0 to 1 hour). */
  reaperGraceMs: (fallback: number) => durationFromEnv("THROWAWAY_REAPER_GRACE", fallback, { allowZero: true, max: 3_600_000 }),
  /**
   * `THROWAWAY_API_TIMEOUT`: ms the engine has to answer a non-streaming Engine API call (create, start, inspect,
   * remove, ...) before it fails with an `EngineTimeoutError`. Streams (logs, events, pulls, builds, exec) and waits
   * have none. Default 60000 (1 min).
   */
  apiTimeoutMs: () => durationFromEnv("THROWAWAY_API_TIMEOUT", 60_000),
  /**
   * `THROWAWAY_API_VERSION`: the Engine API version to speak, e.g. `1.41`, instead of the one negotiated with the
   * engine (its own, capped at the newest throwaway knows). For testing against an old API. Default: negotiated.
   */
  apiVersion: () => {
    const value = nonEmpty("THROWAWAY_API_VERSION");
    if (value !== undefined && !/^1\.\d{1,3}$/.test(value)) {
      throw new InvalidOptionError("THROWAWAY_API_VERSION", "an Engine API version such as `1.41`", process.env.THROWAWAY_API_VERSION);
    }
    return value;
  },
  /**
   * `THROWAWAY_SSH_CONFIG`: an ssh_config file for `ssh://` engines, used instead of `~/.ssh/config` (`ssh -F`), e.g.
   * a CI job's own identity and known_hosts. Default: ssh's usual config.
   */
  sshConfigFile: () => nonEmpty("THROWAWAY_SSH_CONFIG"),
  /**
   * `THROWAWAY_SESSION_ID`: the session a process joins, set by the run's first process for the processes it starts
   * (vitest workers). A value that is no session id (1-64 of `a-z A-Z 0-9 _ . -`) is ignored: a fresh session starts.
   */
  sessionId: () => {
    const value = nonEmpty("THROWAWAY_SESSION_ID");
    return value !== undefined && /^[a-zA-Z0-9_.-]{1,64}$/.test(value) ? value : undefined;
  },
  /** `THROWAWAY_VITEST_LOG_LINES`: container log lines added to a failed test's output (`0`: none), unless a fixture says. */
  vitestLogLines: (fallback: number) => wholeNumber("THROWAWAY_VITEST_LOG_LINES", fallback, 0, "a whole number of lines, 0 or more"),
  /**
   * `THROWAWAY_MYSQL_LOCK_WAIT`: whole seconds a MySQL snapshot or restore waits for a lock another connection holds
   * (an open transaction) before failing. Default 10.
   */
  mysqlLockWaitSeconds: () => wholeNumber("THROWAWAY_MYSQL_LOCK_WAIT", 10, 1, "a whole number of seconds, at least 1"),
} as const;

/**
 * What a process hands the processes it starts (test workers, the watchdog) through the environment, so they join
 * its session and find its reaper folder; read back through {@link env}.
 */
export const inherited = {
  setSessionId: (id: string) => {
    process.env.THROWAWAY_SESSION_ID = id;
  },
  setReaperDir: (dir: string) => {
    process.env.THROWAWAY_REAPER_DIR = dir;
  },
} as const;

function nonEmpty(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

function flag(name: string): boolean {
  const value = nonEmpty(name)?.toLowerCase();
  if (value === undefined || value === "0" || value === "false" || value === "off") return false;
  if (value === "1" || value === "true" || value === "on") return true;
  throw new InvalidOptionError(name, "`true` or `false`", process.env[name]);
}

function positiveNumber(name: string, fallback: number): number {
  const raw = nonEmpty(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    throw new InvalidOptionError(name, "a positive number", raw);
  }
  return value;
}

function wholeNumber(name: string, fallback: number, min: number, expected: string): number {
  const raw = nonEmpty(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new InvalidOptionError(name, expected, raw);
  return value;
}
