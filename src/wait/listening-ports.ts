import { connect } from "node:net";
import { debug } from "../debug.js";
import { InvalidOptionError } from "../errors.js";
import { type PollOptions, poll } from "./poll.js";
import { listeningPortsFromProcNet } from "./proc-net.js";
import { BaseWaitStrategy, quote, untilAborted, type WaitContext, type WaitTarget } from "./strategy.js";

/** Exit codes of a command that could not run at all: no shell, no `cat` (distroless images). */
const NOT_RUNNABLE = new Set([126, 127]);

/**
 * How long a host-side connection must stay open, with nothing read, to count as reaching the service when nothing
 * inside the container can be checked. The engine's port proxy accepts at once and, when nothing listens inside,
 * closes the connection about a millisecond later; a real service keeps it open (or greets first).
 */
export const PROXY_SETTLE_MS = 25;

/** How long the gate (see the strategy) holds a connection to see whether the port proxy closes it. Adapts up. */
const GATE_MS = 4;

/**
 * Probe pacing, chosen once from how the inside can be seen. A local look inside costs microseconds while nothing
 * changes, and a probe that fails at the host-side gate one local connection, so probes run tightly (readiness is
 * seen within a few ms); without a gate that can tell (host-only), each probe holds a connection open.
 */
const PACING: Record<"namespace" | "exec" | "host-only", PollOptions> = {
  namespace: { minIntervalMs: 2, maxIntervalMs: 5, factor: 1.5 },
  exec: { minIntervalMs: 2, maxIntervalMs: 8, factor: 1.5 },
  "host-only": { minIntervalMs: 5, maxIntervalMs: 25, factor: 1.5 },
};

/**
 * Ready when each port accepts a TCP connection on its mapped host port AND a process in the container listens on
 * it. The second check matters: the engine's port proxy accepts connections before the service listens.
 *
 * With a local engine it looks inside from the host: the container's socket counters, and its `/proc/net/tcp*`
 * tables when those change (no exec, so it costs the container nothing and works on images without a shell), then
 * connects to the mapped ports. With a remote engine, the host-side connection comes first (a proxy with nothing
 * behind it closes it at once, failing the probe), then an exec of `cat /proc/net/tcp*`; when the image cannot run
 * that (distroless), it falls back at once to the host-side check alone, requiring the connection to stay open for
 * {@link PROXY_SETTLE_MS}, instead of timing out.
 */
export class ListeningPortsWaitStrategy extends BaseWaitStrategy {
  private readonly ports: readonly number[];

  /** @param ports container TCP ports; default (none given): every exposed TCP port. */
  constructor(ports: readonly number[] = []) {
    super();
    for (const port of ports) {
      if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) {
        throw new InvalidOptionError("Wait.forListeningPorts(...ports)", "container TCP ports 1-65535", port);
      }
    }
    this.ports = [...new Set(ports)];
  }

  describe(): string {
    return this.ports.length === 0 ? "listening ports (all exposed)" : `listening ports ${this.ports.map((p) => `${p}/tcp`).join(", ")}`;
  }

  async waitUntilReady(target: WaitTarget, context: WaitContext): Promise<void> {
    const bound = target
      .boundPorts()
      .filter((p) => p.protocol === "tcp")
      .map((p) => p.port);
    const ports = this.ports.length > 0 ? [...this.ports] : bound;
    const area = `container ${target.id.slice(0, 12)}`;
    if (ports.length === 0) {
      debug(area, "no exposed TCP ports: nothing to wait for");
      return;
    }
    const hostPorts = new Map<number, number>();
    for (const port of ports) {
      if (!bound.includes(port)) {
        const exposed = bound.length > 0 ? bound.map((p) => `${p}/tcp`).join(", ") : "none";
        throw new InvalidOptionError(`Wait.forListeningPorts(${port})`, `an exposed TCP port (exposed: ${exposed})`, port, {
          hint: `add withExposedPorts(${port}) to the container`,
        });
      }
    }
    // Looked up at probe time: a port is declared before the engine reports its binding (and a container that died
    // at once never gets one; the exit is then the error, not the missing binding).
    const hostPort = (port: number): number => {
      let mapped = hostPorts.get(port);
      if (mapped === undefined) {
        try {
          mapped = target.mappedPort(port, "tcp");
        } catch {
          throw new Error(`${port}/tcp has no host port binding yet`);
        }
        hostPorts.set(port, mapped);
      }
      return mapped;
    };

    const first = await untilAborted(target.listeningPorts(), context.signal);
    let mode: keyof typeof PACING = first === undefined ? "exec" : "namespace";
    debug(area, `${this.describe()}: checking ${modeText[mode]}`);

    // Each probe starts with its cheapest check. Locally that is the look inside (socket counters, the tables only
    // when those change) followed by the host-side connection. Otherwise the host-side connection is the gate (about
    // a millisecond, no engine call), and the exec runs only when every port passes it: with the engine's port proxy,
    // "passes" means the proxy did not close the connection within `gateMs`, which it does at once when nothing
    // listens behind it. Bytes back (a greeting) prove a listener and skip the look inside.
    let gateMs = GATE_MS;
    const pending = new Set(ports);
    // Ports whose host side refused a connection during this wait: no port proxy accepts on the service's behalf
    // there (a proxy listens from the container's start), so a later accepted connection is the service's own.
    const refused = new Set<number>();
    const connectAll = async (settleMs: number) => {
      const results = await Promise.allSettled(
        [...pending].map((port) => hostConnect(target.host, hostPort(port), context.signal, { settleMs })),
      );
      [...pending].forEach((port, i) => {
        const result = results[i]!;
        if (result.status === "rejected" && (result.reason as Error).cause instanceof Error) {
          if (((result.reason as Error).cause as NodeJS.ErrnoException).code === "ECONNREFUSED") refused.add(port);
        }
      });
      for (const result of results) if (result.status === "rejected") throw result.reason;
      return results.map((result) => (result as PromiseFulfilledResult<"greeted" | "open">).value);
    };
    const notListening = (listening: ReadonlySet<number>) => {
      const waiting = [...pending].filter((port) => !listening.has(port));
      return waiting.length > 0
        ? new Error(`nothing listens on ${waiting.map((p) => `${p}/tcp`).join(", ")} inside the container yet`)
        : undefined;
    };
    await poll(
      context,
      async () => {
        if (mode === "namespace") {
          const listening = await target.listeningPorts();
          if (listening === undefined) throw new Error("the container's network namespace could not be read (has it stopped?)");
          const error = notListening(listening);
          if (error) throw error;
          await connectAll(0);
          pending.clear();
          return;
        }
        const gates = await connectAll(mode === "host-only" ? PROXY_SETTLE_MS : gateMs);
        const proven = gates.every((gate) => gate === "greeted") || [...pending].every((port) => refused.has(port));
        if (mode === "exec" && !proven) {
          const result = await readProcNetByExec(target, context);
          if (result === "unavailable") {
            mode = "host-only";
            debug(area, `${this.describe()}: the image cannot run \`cat\`, checking ${modeText[mode]}`);
            await connectAll(PROXY_SETTLE_MS);
          } else {
            const error = notListening(result);
            if (error) {
              // The proxy kept the connection open longer than the gate allowed: give it more time next round.
              gateMs = Math.min(gateMs * 2, PROXY_SETTLE_MS);
              throw error;
            }
          }
        }
        pending.clear();
      },
      PACING[mode],
    );
  }
}

const modeText = {
  namespace: "the container's sockets from the host's /proc (no exec) and the mapped host ports",
  exec: "the container's sockets with `cat /proc/net/tcp*` (exec) and the mapped host ports",
  "host-only": `only the mapped host ports (the image cannot run \`cat\`): a connection must stay open ${PROXY_SETTLE_MS} ms`,
} as const;

/** Reads the container's listening ports with one exec; `"unavailable"` when the image cannot run `cat`. */
async function readProcNetByExec(target: WaitTarget, context: WaitContext): Promise<ReadonlySet<number> | "unavailable"> {
  let result: Awaited<ReturnType<WaitTarget["exec"]>>;
  try {
    result = await untilAborted(target.exec(["cat", "/proc/net/tcp", "/proc/net/tcp6"], context.signal), context.signal);
  } catch (error) {
    if (context.signal.aborted) throw error;
    debug(
      `container ${target.id.slice(0, 12)}`,
      `exec cat /proc/net/tcp failed: ${error instanceof Error ? error.message : String(error)}`,
    );
    return "unavailable";
  }
  // `cat` exits 1 when /proc/net/tcp6 is missing (IPv6 off) but still prints /proc/net/tcp: use what it printed.
  if (result.stdout.includes("local_address")) return listeningPortsFromProcNet(result.stdout);
  if (result.exitCode !== 0) {
    const why = NOT_RUNNABLE.has(result.exitCode) ? "cannot run" : "failed";
    debug(`container ${target.id.slice(0, 12)}`, `exec cat /proc/net/tcp ${why} (exit ${result.exitCode}): ${quote(result.output)}`);
    return "unavailable";
  }
  return listeningPortsFromProcNet(result.stdout);
}

export interface HostConnectOptions {
  /** Give up on one connection attempt after this many ms. Default 1000. */
  timeoutMs?: number;
  /**
   * Keep the connection open this many ms and fail if the peer closes it first without sending anything (what a
   * port proxy does when nothing listens behind it). Default 0: connected is enough.
   */
  settleMs?: number;
}

/**
 * Opens and closes one TCP connection; rejects with the socket's error, or the signal's reason when aborted. Resolves
 * `"greeted"` when the peer sent bytes first (a server-speaks-first protocol such as MySQL's: through a port proxy,
 * proof that a process listens behind it), else `"open"`.
 */
export function hostConnect(
  host: string,
  port: number,
  signal: AbortSignal,
  options: HostConnectOptions = {},
): Promise<"greeted" | "open"> {
  const timeoutMs = options.timeoutMs ?? 1000;
  const settleMs = options.settleMs ?? 0;
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const socket = connect({ host, port, timeout: timeoutMs });
    let settleTimer: NodeJS.Timeout | undefined;
    const done = (error?: Error, raw = false, greeted = false) => {
      clearTimeout(settleTimer);
      // Closing first with a reset leaves no TIME_WAIT socket behind: a long wait opens hundreds of connections.
      if (socket.readyState === "open") socket.resetAndDestroy();
      else socket.destroy();
      signal.removeEventListener("abort", onAbort);
      if (raw) reject(error);
      else if (error) reject(new Error(`connect to ${host}:${port} failed: ${error.message}`, { cause: error }));
      else resolve(greeted ? "greeted" : "open");
    };
    const onAbort = () => done(signal.reason, true);
    signal.addEventListener("abort", onAbort, { once: true });
    socket.once("connect", () => {
      if (settleMs <= 0) return done();
      socket.setTimeout(0);
      settleTimer = setTimeout(() => done(), settleMs);
      socket.once("data", () => done(undefined, false, true));
      socket.once("end", () =>
        done(new Error("the connection was accepted and closed at once: nothing listens behind the port proxy yet")),
      );
    });
    socket.once("timeout", () => done(new Error(`no answer within ${timeoutMs} ms`)));
    socket.once("error", (error) => done(error));
  });
}
