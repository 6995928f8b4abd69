import { connect } from "node:net";
import { PermanentFailure, poll } from "./poll.js";
import { listeningPortsFromProcNet } from "./proc-net.js";
import { BaseWaitStrategy, type WaitContext, type WaitTarget } from "./strategy.js";

/** Exit codes of a command that could not run at all: no shell, no `cat` (distroless images). */
const NOT_RUNNABLE = new Set([126, 127]);

/**
 * Ready when each port accepts a TCP connection on its mapped host port AND a process in the container listens on
 * it. The second check matters: the engine's port proxy accepts connections before the service listens.
 *
 * The in-container check reads the container's own `/proc/net/tcp*` from the host when the engine is local (no
 * exec, so it costs the container nothing and works on images without a shell); for a remote engine it execs
 * `cat`, and when the image cannot run that, it falls back to the host-side check alone instead of timing out.
 */
export class ListeningPortsWaitStrategy extends BaseWaitStrategy {
  private readonly ports: readonly number[];

  constructor(ports: readonly number[] = []) {
    super();
    this.ports = ports;
  }

  describe(): string {
    return this.ports.length === 0 ? "listening ports (all exposed)" : `listening ports ${this.ports.map((p) => `${p}/tcp`).join(", ")}`;
  }

  async waitUntilReady(target: WaitTarget, context: WaitContext): Promise<void> {
    const ports =
      this.ports.length > 0
        ? [...this.ports]
        : target
            .boundPorts()
            .filter((p) => p.protocol === "tcp")
            .map((p) => p.port);
    if (ports.length === 0) return;
    let execUnavailable = false;
    const pending = new Set(ports);
    await poll(
      context,
      async () => {
        let listening = await target.listeningPorts();
        if (listening === undefined && !execUnavailable) {
          const result = await target.exec(["cat", "/proc/net/tcp", "/proc/net/tcp6"], context.signal).catch(() => undefined);
          if (result === undefined || NOT_RUNNABLE.has(result.exitCode)) execUnavailable = true;
          else listening = listeningPortsFromProcNet(result.stdout);
        }
        for (const port of [...pending]) {
          if (listening && !listening.has(port)) throw new Error(`nothing listens on ${port}/tcp inside the container yet`);
          await hostConnect(target.host, target.mappedPort(port, "tcp"), context.signal);
          pending.delete(port);
        }
      },
      { minIntervalMs: 5, maxIntervalMs: 25 },
    );
  }
}

/** Opens and closes one TCP connection; rejects with the socket's error. */
export function hostConnect(host: string, port: number, signal: AbortSignal, timeoutMs = 1000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new PermanentFailure("aborted"));
    const socket = connect({ host, port, timeout: timeoutMs });
    const done = (error?: Error) => {
      socket.destroy();
      signal.removeEventListener("abort", onAbort);
      if (error) reject(new Error(`connect to ${host}:${port} failed: ${error.message}`));
      else resolve();
    };
    const onAbort = () => done(new Error("aborted"));
    signal.addEventListener("abort", onAbort, { once: true });
    socket.once("connect", () => done());
    socket.once("timeout", () => done(new Error(`no answer within ${timeoutMs} ms`)));
    socket.once("error", (error) => done(error));
  });
}
