import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createConnection, type Socket } from "node:net";
import { setPriority } from "node:os";
import { dirname, join, parse, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { debug, debugEnabled } from "../debug.js";
import { type EngineEndpoint, endpointUrl } from "../engine/discovery.js";
import { ReaperError } from "../errors.js";
import type { WatchdogConfig } from "./protocol.js";
import { readLines } from "./protocol.js";
import { getSessionId } from "./session.js";
import { checkSocket, getSocketDir, getSocketPath } from "./socket-path.js";

/**
 * How often in a row this process may lose its watchdog (or fail to reach one) before it gives up and warns:
 * protects against a watchdog that dies at once, every time, from turning every start into a respawn.
 */
const MAX_ATTEMPTS = 5;

/** The watchdog's niceness while it idles (see `spawnWatchdog`). */
const WATCHDOG_NICENESS = 10;

type Link =
  /** We spawned the watchdog; fd 3's other end is our connection from the first instant. */
  | { kind: "spawned"; socket: Socket; ready: boolean }
  /** We connected to the session's watchdog over its unix socket. */
  | { kind: "connected"; socket: Socket; open: boolean };

let link: Link | undefined;
let attempts = 0;
let warned = false;
const endpoints = new Map<string, EngineEndpoint>();
let graceMs = 1000;
/** Asked when the link drops: does this process still have resources the watchdog must guard? */
let stillNeeded: () => boolean = () => false;

export interface JoinOptions {
  /** `THROWAWAY_REAPER_GRACE`. */
  graceMs: number;
  stillNeeded: () => boolean;
}

/**
 * Makes sure the session's watchdog knows this process and the engine it uses. Synchronous and non-blocking: the
 * spawn (or connect) proceeds beside the caller's container start. Idempotent.
 *
 * Throws {@link ReaperError} only for what the user must fix (the watchdog program is missing, the socket folder is
 * not ours); a watchdog that fails later is reported with a process warning, since the start itself succeeded.
 */
export function joinWatchdog(endpoint: EngineEndpoint, options: JoinOptions): void {
  graceMs = options.graceMs;
  stillNeeded = options.stillNeeded;
  const url = endpointUrl(endpoint);
  const isNew = !endpoints.has(url);
  endpoints.set(url, endpoint);
  if (link) {
    if (isNew) send(link.socket, { endpoints: [endpoint] });
    return;
  }
  start();
}

function start(): void {
  if (attempts >= MAX_ATTEMPTS) return; // warned already: the watchdog keeps dying
  const path = getSocketPath(getSessionId());
  // A socket file means a watchdog (or the corpse of one: connecting tells which) already serves the session.
  if (process.platform !== "win32" && existsSync(path)) connect(path);
  else spawnWatchdog(path);
}

/** The compiled watchdog program, next to this file in `dist/`, or in the package's `dist/` when run from sources. */
export function getWatchdogProgram(here: string = fileURLToPath(import.meta.url)): string {
  if (here.endsWith(".ts")) return resolve(dirname(here), "..", "..", "dist", "reaper", "watchdog.js");
  return join(dirname(here), "watchdog.js");
}

function spawnWatchdog(socketPath: string): void {
  const program = getWatchdogProgram();
  if (!existsSync(program)) {
    // Thrown on every start, not counted as an attempt: the fix is the user's, and silence would mean leaks.
    const fromSources = fileURLToPath(import.meta.url).endsWith(".ts");
    throw new ReaperError(
      fromSources
        ? `The reaper's program ${program} is missing (throwaway runs from its TypeScript sources): run \`npm run build\`, or set THROWAWAY_REAPER=off`
        : `The reaper's program ${program} is missing: reinstall throwaway, or set THROWAWAY_REAPER=off`,
    );
  }
  attempts++;
  const sessionId = getSessionId();
  const config: WatchdogConfig = {
    v: 1,
    sessionId,
    socketPath,
    endpoints: [...endpoints.values()],
    spawnerPid: process.pid,
    graceMs,
    logFile: join(getSocketDir(), `${sessionId}.log`),
    verbose: debugEnabled(),
  };
  // NODE_OPTIONS may load the test runner's hooks (loaders, --inspect): the watchdog is plain Node.
  const { NODE_OPTIONS: _, ...env } = process.env;
  const child = spawn(process.execPath, [program, JSON.stringify(config)], {
    // Its own process group and session: Ctrl-C and a kill of our process group must not reach it.
    detached: true,
    // fd 3 is a socket pair: our end closes when this process dies, however it dies; the watchdog sees EOF.
    stdio: ["ignore", "ignore", "ignore", "pipe"],
    // A watchdog must not keep a folder busy (a test deleting its temp dir, an unmount).
    cwd: parse(process.cwd()).root,
    env,
    windowsHide: true,
  });
  child.unref();
  // Node's start-up costs the watchdog ~75 ms of CPU, right while our first container starts: on a two-core CI box
  // it would compete with the engine for it. At a lower priority it takes only idle time; it needs little CPU
  // afterwards, and raises its priority back (when allowed) before it reaps.
  if (child.pid !== undefined) {
    try {
      setPriority(child.pid, WATCHDOG_NICENESS);
    } catch {
      // Not allowed here (some containers): it then runs at our priority.
    }
  }
  const socket = child.stdio[3] as Socket;
  socket.unref();
  const current: Link = { kind: "spawned", socket, ready: false };
  link = current;
  debug("reaper", `spawned watchdog pid ${child.pid} for session ${sessionId}`);
  let failure: string | undefined;
  child.on("error", (error) => {
    failure = error.message;
  });
  socket.on("error", () => {});
  readLines(socket, (line) => {
    if (line === "ready") {
      current.ready = true;
      attempts = 0;
      debug("reaper", `watchdog ready on ${socketPath}`);
    } else if (line === "join") {
      debug("reaper", "another process of the session spawned the watchdog first: joining it");
      link = undefined;
      socket.destroy();
      connect(socketPath);
    } else if (line.startsWith("error ")) {
      failure = line.slice(6);
    }
  });
  socket.on("close", () => {
    if (link !== current) return;
    link = undefined;
    if (!current.ready) {
      warn(`The reaper could not start${failure ? `: ${failure}` : ""}`);
      return;
    }
    relink("the watchdog exited");
  });
}

function connect(socketPath: string): void {
  attempts++;
  try {
    // Our private folder is checked when chosen; checked again here, with the socket itself, right before we hand
    // over our pid: a socket that is not ours would take the connection and leave us without a reaper.
    checkSocket(socketPath);
  } catch (error) {
    link = undefined;
    warn((error as Error).message);
    return;
  }
  const socket = createConnection(socketPath);
  socket.unref();
  const current: Link = { kind: "connected", socket, open: false };
  link = current;
  socket.on("connect", () => {
    current.open = true;
    attempts = 0;
    debug("reaper", `joined the session's watchdog on ${socketPath}`);
    send(socket, { pid: process.pid, endpoints: [...endpoints.values()] });
  });
  socket.on("error", () => {});
  socket.resume();
  socket.on("close", () => {
    if (link !== current) return;
    link = undefined;
    // Never opened: a socket file nobody answers on (its watchdog was killed) or one that just went away (its
    // watchdog is reaping): start a watchdog of our own; it removes a stale file safely.
    if (!current.open) {
      if (attempts >= MAX_ATTEMPTS) {
        warn(`The reaper at ${socketPath} does not answer`);
        return;
      }
      try {
        spawnWatchdog(socketPath);
      } catch (error) {
        warn((error as Error).message); // in an event handler: throwing would crash the user's process
      }
      return;
    }
    relink("the connection to the watchdog closed");
  });
}

/** The watchdog went away while we still have resources: get a new one at once, not at the next start. */
function relink(why: string): void {
  debug("reaper", `${why}${stillNeeded() ? "; starting another" : ""}`);
  if (!stillNeeded()) return;
  try {
    start();
  } catch (error) {
    warn((error as Error).message);
  }
}

function send(socket: Socket, message: { pid?: number; endpoints: EngineEndpoint[] }): void {
  if (!socket.destroyed) socket.write(`${JSON.stringify(message)}\n`);
}

function warn(message: string): void {
  if (!warned) {
    warned = true;
    let where = "its log";
    try {
      where = join(getSocketDir(), `${getSessionId()}.log`);
    } catch {
      // No private folder at all: the message says why.
    }
    process.emitWarning(`${message}; containers this process starts are still removed when it ends, but not if it is killed`, {
      code: "THROWAWAY_REAPER",
      detail: `The watchdog logs what fails to ${where} (everything with NODE_DEBUG=throwaway); THROWAWAY_REAPER=off runs without it.`,
    });
  }
}
