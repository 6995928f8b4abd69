import { randomBytes } from "node:crypto";
import { readFileSync, readlinkSync } from "node:fs";
import { createRequire } from "node:module";
import { hostname } from "node:os";

/** Labels every resource throwaway creates carries; `throwaway ps` and the reaper find resources by them. */
export const LABELS = {
  /** The run (test process and its workers) that created the resource. */
  session: "dev.throwaway.session-id",
  version: "dev.throwaway.version",
  /** The pid of the process that created the resource, for the dead-session sweep. */
  pid: "dev.throwaway.pid",
  /** The host that created it (a pid means nothing on another host). */
  hostname: "dev.throwaway.hostname",
  /**
   * Where the pid label means something: the boot and pid namespace of the creator (Linux). Two CI jobs in containers
   * with `--network host` share the host's name but not their pids; without this one could judge the other dead.
   */
  pidScope: "dev.throwaway.pid-scope",
  /** Set on resources that must outlive sessions (reused containers, `throwaway up --keep`). */
  keep: "dev.throwaway.keep",
  /** The hash of a reusable container's whole configuration. */
  reuseHash: "dev.throwaway.reuse-hash",
  /** The content digest a built image is cached by. */
  buildDigest: "dev.throwaway.build-digest",
  /** The content address of a warm-start cache image (see `withWarmStart`). */
  warmKey: "dev.throwaway.warm-key",
} as const;

/** Environment variable that carries the session id to child processes (test workers), so they join the run. */
export const SESSION_ENV = "THROWAWAY_SESSION_ID";

const require = createRequire(import.meta.url);
export const VERSION: string = (require("../../package.json") as { version: string }).version;

let sessionId: string | undefined;

/**
 * The id of this run: inherited from `THROWAWAY_SESSION_ID` when a parent process started the run, else created
 * here and exported to the environment so every child process (vitest workers) joins the same session.
 */
export function getSessionId(): string {
  if (sessionId) return sessionId;
  const inherited = process.env[SESSION_ENV]?.trim();
  sessionId = inherited && /^[a-zA-Z0-9_.-]{1,64}$/.test(inherited) ? inherited : randomBytes(8).toString("hex");
  process.env[SESSION_ENV] = sessionId;
  return sessionId;
}

let host: string | undefined;

/** This machine's name as the pid label's scope; read once (it does not change under a running process). */
export function getHostname(): string {
  host ??= hostname();
  return host;
}

let scope: string | undefined;

/**
 * `<boot id>/<pid namespace>` on Linux: two processes see each other's pids exactly when their scopes are equal.
 * `""` elsewhere (one host, one pid space: the hostname alone scopes pids there).
 */
export function getPidScope(): string {
  if (scope !== undefined) return scope;
  try {
    const boot = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    const ns = /\[(\d+)\]/.exec(readlinkSync("/proc/self/ns/pid"))?.[1];
    scope = boot && ns ? `${boot}/${ns}` : "";
  } catch {
    scope = "";
  }
  return scope;
}

/**
 * The labels that tie a resource to this session, plus where it was created (pid, host, pid scope): with them a
 * sweep can prove a session dead (every creator pid is gone from this very pid space) without any reaper running.
 */
export function sessionLabels(): Record<string, string> {
  const scopeLabel = getPidScope();
  return {
    [LABELS.session]: getSessionId(),
    [LABELS.version]: VERSION,
    [LABELS.pid]: String(process.pid),
    [LABELS.hostname]: getHostname(),
    ...(scopeLabel ? { [LABELS.pidScope]: scopeLabel } : {}),
  };
}
