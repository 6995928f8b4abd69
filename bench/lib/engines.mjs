import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

/**
 * The other engines the bench can run on (issue 14): what `scripts/engine.sh ensure NAME` prints, and what that
 * means for each side (where published ports are reached, which settings the peer needs, whether the counting proxy
 * can stand in front of the engine).
 */

/** Names `scripts/engine.sh ensure NAME` provisions. */
export const ENGINE_NAMES = ["podman", "podman-rootless", "docker-rootless", "remote-tls", "remote-ssh"];

/** The workloads an engine run takes unless `--only` says otherwise: issue 14's busybox, MySQL and port readiness. */
export const ENGINE_WORKLOADS = ["busybox", "mysql", "readiness-port", "api-calls"];

/** The variables that point a client at an engine; all are replaced (or removed) together for an engine run. */
export const ENGINE_VARIABLES = ["DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_CONTEXT", "DOCKER_TLS"];

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/**
 * The `KEY=VALUE` lines `engine.sh ensure NAME` prints on stdout, as an environment (other lines are ignored; values
 * may be quoted, as for `eval`).
 * @param {string} text
 * @returns {Record<string, string>}
 */
export function parseEngineLines(text) {
  const env = {};
  for (const raw of text.split("\n")) {
    const line = raw.trim().replace(/^export\s+/, "");
    const match = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (!match) continue;
    let value = match[2];
    if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.at(-1) === value[0]) value = value.slice(1, -1);
    env[match[1]] = value;
  }
  if (!env.DOCKER_HOST) throw new Error(`the engine script printed no DOCKER_HOST line:\n${text.trim() || "(nothing)"}`);
  return env;
}

/**
 * How the bench reaches an engine, from its environment lines.
 * @param {string} name
 * @param {Record<string, string>} env
 */
export function engineProfile(name, env) {
  const dockerHost = env.DOCKER_HOST;
  const url = new URL(dockerHost);
  const scheme = url.protocol.replace(/:$/, "");
  const local = scheme === "unix";
  if (!local && !["tcp", "ssh", "http", "https"].includes(scheme)) {
    throw new Error(`engine ${name}: DOCKER_HOST=${dockerHost} has a scheme the bench does not know (unix, tcp, ssh)`);
  }
  // A remote engine publishes ports on its own interfaces: its 127.0.0.1 is not ours, so every side reaches the
  // container at the engine's address.
  const address = local ? "127.0.0.1" : url.hostname.replace(/^\[|\]$/g, "");
  const tls = env.DOCKER_TLS_VERIFY === "1" || scheme === "https";
  const skipSides = {};
  if (scheme === "ssh") {
    skipSides.testcontainers =
      'testcontainers 12 cannot use an ssh:// engine: it has no ssh transport, takes ssh://USER@ADDR for a plain HTTP host, and stops with "Could not find a working container runtime strategy" (its host resolution refuses the ssh: scheme too)';
  }
  const over = scheme === "ssh" ? "ssh" : tls ? "TLS" : "TCP";
  return {
    name,
    dockerHost,
    scheme,
    local,
    tls,
    address,
    env,
    apiCounts: local
      ? "counted on a proxy in front of the engine's unix socket, for every side"
      : `from throwaway's own counter only (engine.apiCalls, which leaves out the discovery ping): the counting proxy fronts a unix socket, ${name} is reached over ${over}, and the peer and the CLI keep no count of their own`,
    apiSkip: local
      ? undefined
      : `not counted: the counting proxy fronts a unix socket, ${name} is reached over ${over}, and this side keeps no count of its own`,
    skipSides,
  };
}

/**
 * The environment the orchestrator and every side run with on this engine: the caller's, with every variable that
 * points a client at an engine replaced by the engine's own lines.
 * @param {NodeJS.ProcessEnv} base
 * @param {Record<string, string>} engineEnv
 */
export function engineEnvironment(base, engineEnv) {
  const env = { ...base };
  for (const key of ENGINE_VARIABLES) delete env[key];
  return { ...env, ...engineEnv };
}

/**
 * Each side's settings on this engine: the defaults of the local run, adjusted where the engine needs it.
 * @param {ReturnType<typeof engineProfile>} profile
 * @param {Record<string, Record<string, string>>} defaults the local run's settings
 */
export function engineSideSettings(profile, defaults) {
  const testcontainers = { ...defaults.testcontainers };
  // On a unix socket, `localhost` keeps the peer from running alpine:3.14 to find a gateway (this machine has
  // /.dockerenv); for a tcp:// engine its own host resolution already gives the engine's address.
  if (!profile.local) delete testcontainers.TESTCONTAINERS_HOST_OVERRIDE;
  return { ...defaults, testcontainers };
}

/** What the engine run records beside each side's settings (in the results and the README). */
export function engineNotes(profile) {
  const notes = [
    `All three sides on ${profile.name}: DOCKER_HOST=${profile.dockerHost}${profile.tls ? `, DOCKER_TLS_VERIFY=1, DOCKER_CERT_PATH=${profile.env.DOCKER_CERT_PATH ?? "(unset)"}` : ""}.`,
  ];
  if (profile.local) {
    notes.push("The CLI publishes on 127.0.0.1, and every side connects to 127.0.0.1.");
  } else {
    notes.push(
      `The CLI publishes on all of the engine's interfaces (its 127.0.0.1 is not this machine's) and connects to ${profile.address}; testcontainers without TESTCONTAINERS_HOST_OVERRIDE (it resolves a tcp:// engine to its address).`,
    );
  }
  notes.push(`Engine API calls: ${profile.apiCounts}.`);
  return notes;
}

/**
 * Runs `bash scripts/engine.sh ensure NAME` (idempotent) and returns the engine's environment lines.
 * @param {string} name
 * @param {(line: string) => void} log
 */
export function ensureEngine(name, log) {
  return new Promise((resolve, reject) => {
    log(`ensuring engine ${name} (bash scripts/engine.sh ensure ${name})`);
    execFile(
      "bash",
      ["scripts/engine.sh", "ensure", name],
      { cwd: ROOT, timeout: 900_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`bash scripts/engine.sh ensure ${name} failed: ${String(stderr).trim() || error.message}`));
          return;
        }
        try {
          resolve(parseEngineLines(String(stdout)));
        } catch (parseError) {
          reject(parseError);
        }
      },
    );
  });
}
