import type { Socket } from "node:net";
import type { EngineEndpoint } from "../engine/discovery.js";

/**
 * What the spawning process hands the watchdog (one JSON argument: visible in `ps`, which helps when debugging,
 * and holding no secrets: TLS material is passed as file paths).
 */
export interface WatchdogConfig {
  v: 1;
  sessionId: string;
  /** Where the watchdog listens for the session's other processes. */
  socketPath: string;
  /** The engines the session's resources live on (the spawner's; clients add theirs). */
  endpoints: EngineEndpoint[];
  /** The process that spawned the watchdog; it holds the other end of fd 3. */
  spawnerPid: number;
  /** How long the watchdog waits, after the last process left, for one to come back (ms). */
  graceMs: number;
  /** Where the watchdog appends what went wrong (a removal that failed), and everything it does when `verbose`. */
  logFile: string;
  /** `NODE_DEBUG=throwaway` in the spawner. */
  verbose: boolean;
}

/**
 * A client's line to the watchdog (JSON): who it is (its pid: the watchdog never reaps a known client's resources
 * as "someone else's") and the engines it uses.
 */
export interface ClientMessage {
  pid?: number;
  endpoints?: EngineEndpoint[];
}

/**
 * The watchdog's lines to its spawner on fd 3: `ready` (listening, reaps when the session ends), `join` (another
 * watchdog already serves this session: connect to it) or `error <text>` (it could not start).
 */
export type SpawnerMessage = "ready" | "join" | `error ${string}`;

/** Calls `onLine` with each complete line the socket receives (without the newline). */
export function readLines(socket: Socket, onLine: (line: string) => void): void {
  let buffered = "";
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => {
    buffered += chunk;
    let newline = buffered.indexOf("\n");
    while (newline >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line) onLine(line);
      newline = buffered.indexOf("\n");
    }
    // A peer that never sends a newline must not grow our memory without bound.
    if (buffered.length > 64 * 1024) buffered = "";
  });
}

/** The engines in a client's message that look like endpoints; anything else is ignored. */
export function parseClientMessage(line: string): ClientMessage {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return {};
  }
  if (typeof value !== "object" || value === null) return {};
  const { pid, endpoints } = value as { pid?: unknown; endpoints?: unknown };
  const message: ClientMessage = {};
  if (typeof pid === "number" && Number.isSafeInteger(pid) && pid > 0) message.pid = pid;
  if (Array.isArray(endpoints)) message.endpoints = endpoints.filter(isEndpoint);
  return message;
}

export function isEndpoint(value: unknown): value is EngineEndpoint {
  if (typeof value !== "object" || value === null) return false;
  const e = value as { kind?: unknown; socketPath?: unknown; host?: unknown; port?: unknown };
  if (e.kind === "unix" || e.kind === "npipe") return typeof e.socketPath === "string";
  if (e.kind === "tcp") return typeof e.host === "string" && typeof e.port === "number";
  // An ssh:// URL without a port leaves it to the ssh config.
  if (e.kind === "ssh") return typeof e.host === "string" && (e.port === undefined || typeof e.port === "number");
  return false;
}
