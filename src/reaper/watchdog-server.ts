import { mkdirSync, rmdirSync, statSync, unlinkSync } from "node:fs";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { setPriority } from "node:os";
import { dirname } from "node:path";
import type { EngineEndpoint } from "../engine/discovery.js";
import { endpointUrl } from "../engine/discovery.js";
import { mayReap, isPidAlive as realIsPidAlive, type Vantage } from "./liveness.js";
import { appendLog } from "./log-file.js";
import { parseClientMessage, readLines, type SpawnerMessage, type WatchdogConfig } from "./protocol.js";
import { getHostname, getPidScope } from "./session.js";
import { checkSocketDir } from "./socket-path.js";

/**
 * How long a watchdog started by hand (no spawner on fd 3) waits for its first client before reaping (ms): the
 * Ryuk convention of a connection timeout, for debugging sessions only.
 */
const FIRST_CLIENT_TIMEOUT_MS = 30_000;

/**
 * A dying process may have had a create request in flight: the engine finishes it after the client is gone. A
 * second pass this long after the first (ms) removes such late arrivals and retries what failed the first time.
 */
const SECOND_PASS_DELAY_MS = 500;

/** After SIGTERM, how long to wait for the clients to leave (ms) before exiting without reaping (see `onTerminate`). */
const TERMINATE_WAIT_MS = 3000;

/** When to load the reaping code after listening (ms); see where it is used. */
const PRELOAD_DELAY_MS = 1000;

/**
 * How long one reap pass may take (ms). Each Engine API call already has its own timeout (`THROWAWAY_API_TIMEOUT`);
 * this bounds the pass as a whole, so an engine that answers but crawls cannot keep the watchdog alive forever.
 */
const REAP_DEADLINE_MS = 180_000;

/** How long an abandoned bind lock (its owner died inside the few ms it holds it) blocks others (ms). */
const STALE_LOCK_MS = 2000;

/**
 * The watchdog of one session: a process of its own (own process group and session, so neither Ctrl-C nor a
 * SIGKILL of the test's process group reaches it) that holds a connection from every process of the session and,
 * when the last one is gone and none came back within the grace period, removes the session's resources and exits.
 *
 * `spawner` is the socket pair end the spawning process holds (fd 3): it counts as a client from the first
 * instant, so there is no window between spawn and connect in which the spawner could die unnoticed.
 */
export async function runWatchdog(config: WatchdogConfig, spawner: Socket | undefined): Promise<void> {
  // Before anything is written there: the folder (chosen and created by the spawner) must be ours and private,
  // else a log line could land in another user's file and our socket next to theirs.
  if (process.platform !== "win32") {
    checkSocketDir(dirname(config.socketPath));
    checkSocketDir(dirname(config.logFile));
  }
  const write = (line: string) => {
    try {
      appendLog(config.logFile, `${new Date().toISOString()} [${process.pid}] ${line}\n`);
    } catch {
      // Nowhere left to say it; the reap goes on.
    }
  };
  const log = (line: string) => {
    if (config.verbose) write(line);
  };
  /** Failures are always written: a leak must leave a trace someone can find. */
  const fail = (line: string) => write(line);
  const clients = new Set<Socket>();
  const knownPids = new Set<number>([config.spawnerPid]);
  const endpoints = new Map<string, EngineEndpoint>();
  const addEndpoints = (list: readonly EngineEndpoint[] | undefined) => {
    for (const endpoint of list ?? []) endpoints.set(endpointUrl(endpoint), endpoint);
  };
  addEndpoints(config.endpoints);

  let graceTimer: NodeJS.Timeout | undefined;
  let terminating = false;
  let reaping = false;
  let server: Server | undefined;
  let socketInode: number | undefined;
  let reapModules:
    | Promise<[typeof import("../engine/engine.js"), typeof import("./inventory.js"), typeof import("./remove.js")]>
    | undefined;
  const loadReapModules = () => {
    reapModules ??= Promise.all([import("../engine/engine.js"), import("./inventory.js"), import("./remove.js")]);
    return reapModules;
  };

  const tellSpawner = (message: SpawnerMessage) => {
    if (spawner && !spawner.destroyed) spawner.write(`${message}\n`);
  };

  const unlinkOwnSocket = () => {
    if (socketInode === undefined || process.platform === "win32") return;
    try {
      // Only our own: after a stale-socket recovery the path may already belong to a newer watchdog.
      if (statSync(config.socketPath).ino === socketInode) unlinkSync(config.socketPath);
    } catch {
      // Already gone.
    }
  };

  const reap = async () => {
    if (reaping) return;
    reaping = true;
    clearTimeout(graceTimer);
    // Stop taking clients first: a process of this session that starts now finds no socket and spawns its own
    // watchdog, and `mayReap` keeps its (live, unknown) resources out of this reap.
    server?.close();
    unlinkOwnSocket();
    log(`reaping session ${config.sessionId} (known pids ${[...knownPids].join(", ")})`);
    try {
      setPriority(0); // spawned at a low priority to stay out of the first start's way; reaping is urgent
    } catch {
      // Only privileged processes may raise their priority: reap at the low one.
    }
    let modules: Awaited<ReturnType<typeof loadReapModules>>;
    try {
      modules = await loadReapModules();
    } catch (error) {
      fail(`cannot load the reaping code: ${(error as Error).message}`);
      process.exit(1);
    }
    const [{ Engine }, { listOwnedResources }, { removeResources, describeResource }] = modules;
    const vantage: Vantage = {
      hostname: getHostname(),
      pidScope: getPidScope(),
      sessionId: config.sessionId,
      isPidAlive: realIsPidAlive,
    };
    // A removal that fails in the first pass (a network whose container is still going) is retried by the second;
    // only what still fails then is a leak worth writing down.
    const pass = async (label: string, final: boolean) =>
      Promise.all(
        [...endpoints.values()].map(async (endpoint) => {
          const engine = new Engine(endpoint);
          try {
            const resources = await listOwnedResources(engine, config.sessionId);
            const doomed = resources.filter((r) => mayReap(r, knownPids, vantage));
            for (const { resource, error } of await removeResources(engine, doomed)) {
              if (error) (final ? fail : log)(`${label}: could not remove ${describeResource(resource)}: ${error}`);
              else log(`${label}: removed ${describeResource(resource)}`);
            }
          } catch (error) {
            (final ? fail : log)(`${label}: ${endpointUrl(endpoint)}: ${(error as Error).message}`);
          }
        }),
      );
    await withDeadline(pass("pass 1", false), REAP_DEADLINE_MS, fail);
    await new Promise((resolve) => setTimeout(resolve, SECOND_PASS_DELAY_MS));
    await withDeadline(pass("pass 2", true), REAP_DEADLINE_MS, fail);
    log("done");
    process.exit(0);
  };

  const drop = (socket: Socket) => {
    if (!clients.delete(socket) || reaping || clients.size > 0) return;
    if (terminating) {
      void reap();
      return;
    }
    log(`last client left; reaping in ${config.graceMs} ms unless one comes back`);
    graceTimer = setTimeout(() => void reap(), config.graceMs);
  };

  const adopt = (socket: Socket) => {
    clients.add(socket);
    clearTimeout(graceTimer);
    socket.on("error", () => {});
    socket.on("close", () => drop(socket));
    readLines(socket, (line) => {
      const message = parseClientMessage(line);
      if (message.pid !== undefined) knownPids.add(message.pid);
      addEndpoints(message.endpoints);
    });
  };

  // Killed on purpose (a user, or a CI agent tearing down the job): when the session's processes are going too,
  // reap as soon as they are gone, without the grace; when only we were killed, leave without touching anything
  // (the clients see the connection drop and start a new watchdog).
  const onTerminate = (signal: NodeJS.Signals) => {
    log(`${signal}`);
    terminating = true;
    if (clients.size === 0) {
      void reap();
      return;
    }
    setTimeout(() => {
      if (reaping) return;
      log(`clients still connected ${TERMINATE_WAIT_MS} ms after ${signal}: exiting without reaping`);
      server?.close();
      unlinkOwnSocket();
      process.exit(0);
    }, TERMINATE_WAIT_MS);
  };
  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.on(signal, onTerminate);

  if (spawner) adopt(spawner);
  log(`watchdog for session ${config.sessionId} (spawner pid ${config.spawnerPid}) on ${config.socketPath}`);

  const bound = await bindExclusive(config.socketPath, (socket) => {
    if (reaping) socket.destroy();
    else adopt(socket);
  });
  if (bound === "join") {
    log("another watchdog serves this session: leaving it to that one");
    if (spawner) {
      clients.delete(spawner);
      spawner.end("join\n");
    }
    // Exit only after fd 3 is flushed: the spawner must read `join` to connect to the other watchdog.
    setTimeout(() => process.exit(0), 50).unref();
    return;
  }
  server = bound;
  if (process.platform !== "win32") socketInode = statSync(config.socketPath).ino;
  tellSpawner("ready");
  log(`listening (startup took ${Math.round(process.cpuUsage().user / 1000 + process.cpuUsage().system / 1000)} ms of CPU)`);
  // Loaded soon, not when reaping: the package's files may be rebuilt or replaced while a long run goes on. Not at
  // once: the spawner's first container start is going on right now, and on a small machine the CPU is shared.
  setTimeout(() => loadReapModules().catch(() => {}), PRELOAD_DELAY_MS); // a failure is reported when reaping

  if (!spawner) graceTimer = setTimeout(() => void reap(), FIRST_CLIENT_TIMEOUT_MS);
}

/**
 * Listens on `path` unless a live watchdog already does (`join`). A socket file nobody answers on is left by a
 * watchdog that was killed: it is removed, under a lock, and only after checking again that nobody answers, so
 * two watchdogs recovering at once can never delete each other's fresh socket.
 */
async function bindExclusive(path: string, onConnection: (socket: Socket) => void): Promise<Server | "join"> {
  const lock = `${path}.lock`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (process.platform === "win32" || takeLock(lock)) {
      try {
        const first = await listen(path, onConnection);
        if (first !== "in-use") return first;
        if (await answers(path)) return "join";
        try {
          unlinkSync(path);
        } catch {
          // Someone removed it already.
        }
        const second = await listen(path, onConnection);
        if (second !== "in-use") return second;
        if (await answers(path)) return "join";
      } finally {
        if (process.platform !== "win32") releaseLock(lock);
      }
    } else if (await answers(path)) {
      return "join";
    }
    if (Date.now() > deadline) throw new Error(`could not listen on ${path}: it stays in use but nothing answers on it`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function listen(path: string, onConnection: (socket: Socket) => void): Promise<Server | "in-use"> {
  return new Promise((resolve, reject) => {
    const server = createServer({ allowHalfOpen: false }, onConnection);
    server.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE") resolve("in-use");
      else reject(error);
    });
    server.listen({ path, readableAll: false, writableAll: false }, () => {
      server.removeAllListeners("error");
      server.on("error", () => {});
      resolve(server);
    });
  });
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection(path);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

function takeLock(lock: string): boolean {
  try {
    mkdirSync(lock);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    try {
      if (Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) rmdirSync(lock);
    } catch {
      // Released meanwhile.
    }
    return false;
  }
}

function releaseLock(lock: string): void {
  try {
    rmdirSync(lock);
  } catch {
    // Already released by a stale-lock breaker.
  }
}

/** Waits for `work`, but no longer than `ms`; says so through `report` when it gives up. */
async function withDeadline(work: Promise<unknown>, ms: number, report: (line: string) => void): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      report(`reap pass not finished after ${ms} ms: giving up on what is left`);
      resolve();
    }, ms);
  });
  try {
    await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}
