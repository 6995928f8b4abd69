import { randomBytes } from "node:crypto";
import { readFileSync, readlinkSync } from "node:fs";
import { hostname } from "node:os";
import { env, inherited } from "../config.js";
import { LABELS } from "../labels.js";
import { VERSION } from "../version.js";

let sessionId: string | undefined;

/**
 * The id of this run: inherited from `THROWAWAY_SESSION_ID` when a parent process started the run, else created
 * here and exported to the environment so every child process (vitest workers) joins the same session.
 */
export function getSessionId(): string {
  if (sessionId) return sessionId;
  sessionId = env.sessionId() ?? randomBytes(8).toString("hex");
  inherited.setSessionId(sessionId);
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
