import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";

/** Labels every resource throwaway creates carries; `throwaway ps` and the reaper find resources by them. */
export const LABELS = {
  /** The run (test process and its workers) that created the resource. */
  session: "dev.throwaway.session-id",
  version: "dev.throwaway.version",
  /** The pid of the process that created the resource, for the dead-session sweep. */
  pid: "dev.throwaway.pid",
  /** The host that created it (a pid means nothing on another host). */
  hostname: "dev.throwaway.hostname",
  /** Set on resources that must outlive sessions (reused containers, `throwaway up --keep`). */
  keep: "dev.throwaway.keep",
  /** The hash of a reusable container's whole configuration. */
  reuseHash: "dev.throwaway.reuse-hash",
  /** The content digest a built image is cached by. */
  buildDigest: "dev.throwaway.build-digest",
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

/** The labels that tie a resource to this session. */
export function sessionLabels(): Record<string, string> {
  return { [LABELS.session]: getSessionId(), [LABELS.version]: VERSION };
}
