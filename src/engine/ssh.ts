import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { accessSync, constants } from "node:fs";
import { Agent as HttpAgent } from "node:http";
import { userInfo } from "node:os";
import { join } from "node:path";
import { Duplex } from "node:stream";
import { EngineConnectionError, EngineHostKeyError } from "../errors.js";
import { type EngineEndpoint, endpointUrl } from "./discovery.js";

type SshEndpoint = Extract<EngineEndpoint, { kind: "ssh" }>;

/** How much of ssh's stderr an error keeps (its last lines say why it failed). */
const STDERR_LIMIT = 4096;

/**
 * The `ssh` command line that reaches an engine the way the docker CLI does: the remote `docker system dial-stdio`
 * relays the connection's bytes to the remote engine's socket. BatchMode makes ssh fail instead of prompting, so
 * an unknown or changed host key (and a missing key or password) fails at once rather than hanging on a prompt no
 * one sees; everything else (identity, known_hosts, a port or user for the host, proxies) comes from the user's ssh
 * config, or from `configFile` (`THROWAWAY_SSH_CONFIG`) when given.
 */
export function sshArgs(endpoint: SshEndpoint, configFile?: string, extra: readonly string[] = []): string[] {
  return [
    ...(configFile ? ["-F", configFile] : []),
    "-o",
    "BatchMode=yes",
    ...extra,
    ...(endpoint.username ? ["-l", endpoint.username] : []),
    ...(endpoint.port !== undefined ? ["-p", String(endpoint.port)] : []),
    // `--` so that a host can never be read as an option.
    "--",
    endpoint.host,
    "docker",
    "system",
    "dial-stdio",
  ];
}

/** What the ssh config says about an engine's host (`ssh -G`, which reads config and connects nowhere). */
export interface SshSettings {
  /** The address the host stands for (a `Host` alias's `HostName`). */
  hostname: string | undefined;
  /** ssh options for connection sharing, or none when the user's config already has a ControlPath or it cannot work. */
  multiplexArgs: string[];
}

const settingsCache = new Map<string, SshSettings>();

/**
 * A new ssh login costs ~0.7 s (key exchange, authentication, the remote shell), and every connection the HTTP
 * client opens at once (a log stream, an exec, a wait) is one. ssh's connection sharing makes each further one a
 * ~15 ms session over one login: the first ssh starts a shared master in the background, which exits 10 s after the
 * last session ends. The socket lives in the user's own ~/.ssh, named by ssh's hash of host, port and user plus
 * the config file in use (so a different identity or known_hosts never rides on another's login). Skipped when the
 * user's config sets its own ControlPath, when ~/.ssh is missing, not writable, or too deep for a socket path, and
 * on Windows.
 */
export function sshSettings(endpoint: SshEndpoint, configFile?: string): SshSettings {
  const key = JSON.stringify([endpoint.host, endpoint.port, endpoint.username, configFile]);
  const cached = settingsCache.get(key);
  if (cached) return cached;
  const args = sshArgs(endpoint, configFile);
  let printed = "";
  try {
    printed = execFileSync("ssh", ["-G", ...args.slice(0, args.indexOf("--") + 2)], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
      timeout: 5000,
      windowsHide: true,
    });
  } catch {
    // No ssh, or a config it cannot read: connecting will say why.
  }
  const settings: SshSettings = {
    hostname: /^hostname (\S+)$/m.exec(printed)?.[1],
    multiplexArgs: printed && !/^controlpath /m.test(printed) ? multiplexArgs(configFile) : [],
  };
  settingsCache.set(key, settings);
  return settings;
}

function multiplexArgs(configFile: string | undefined): string[] {
  // Windows' OpenSSH has no connection sharing.
  if (process.platform === "win32") return [];
  const sshDir = join(userInfo().homedir, ".ssh");
  // ssh adds a 17-character suffix while it creates the socket; unix socket paths end at 107 bytes.
  if (Buffer.byteLength(sshDir) + "/throwaway-".length + 40 + 9 + 17 > 100) return [];
  try {
    accessSync(sshDir, constants.W_OK);
  } catch {
    return [];
  }
  const config = createHash("sha256")
    .update(configFile ?? "")
    .digest("hex")
    .slice(0, 8);
  return ["-o", "ControlMaster=auto", "-o", `ControlPath=~/.ssh/throwaway-%C-${config}`, "-o", "ControlPersist=10"];
}

/**
 * One connection to an `ssh://` engine: the stdio of an `ssh` child process, as a duplex stream that Node's HTTP
 * client speaks HTTP over. It has the few socket methods the client and its keep-alive pool call; an idle pooled
 * connection is unref'd, so it never keeps the process alive.
 */
export class SshConnection extends Duplex {
  /** Read by Node's HTTP agent when it sets an idle timeout on a pooled connection. */
  timeout = 0;
  private readonly child: ChildProcessWithoutNullStreams;
  private stderr = "";

  constructor(
    private readonly endpoint: SshEndpoint,
    configFile: string | undefined,
  ) {
    super();
    const { multiplexArgs } = sshSettings(endpoint, configFile);
    this.child = spawn("ssh", sshArgs(endpoint, configFile, multiplexArgs), { stdio: ["pipe", "pipe", "pipe"], windowsHide: true });
    const { child } = this;
    child.stdout.on("data", (chunk: Buffer) => {
      if (!this.push(chunk)) child.stdout.pause();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString("utf8")).slice(-STDERR_LIMIT);
    });
    // A write to an ssh that already failed gets EPIPE; what matters is why ssh failed, known when it exits.
    child.stdin.on("error", () => {});
    child.on("error", (error: NodeJS.ErrnoException) => {
      // `ssh` itself could not run (not installed: ENOENT).
      this.destroy(
        new EngineConnectionError({
          endpoint: endpointUrl(endpoint),
          call: "ssh",
          reason: `cannot run ssh: ${error.code ?? error.message}`,
          cause: error,
        }),
      );
    });
    // The stream ends when ssh has exited, not when its stdout ends: only then is it known whether that end was
    // the remote side closing (fine) or ssh failing (say why, instead of a bare "socket hang up").
    child.on("close", (code, signal) => {
      if (this.destroyed) return;
      if (code === 0) this.push(null);
      else this.destroy(this.exitError(code, signal));
    });
  }

  private exitError(code: number | null, signal: NodeJS.Signals | null): Error {
    const details = this.stderr.trim();
    // ssh reports every failure as exit status 255 and says which one only on stderr; this line is its fixed
    // wording for a host key that is unknown or does not match known_hosts (under BatchMode).
    if (code === 255 && details.includes("Host key verification failed")) {
      return new EngineHostKeyError({
        host: this.endpoint.host,
        ...(this.endpoint.port !== undefined ? { port: this.endpoint.port } : {}),
        endpoint: endpointUrl(this.endpoint),
      });
    }
    const lastLine = details.split("\n").at(-1)?.trim();
    return new EngineConnectionError({
      endpoint: endpointUrl(this.endpoint),
      call: "ssh",
      reason: `${signal ? `ssh ended by ${signal}` : `ssh exited with code ${code}`}${lastLine ? `: ${lastLine}` : ""}`,
      ...(details ? { details: `ssh said:\n${details}` } : {}),
    });
  }

  override _read(): void {
    this.child.stdout.resume();
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    // Write errors are EPIPE after ssh failed: the close handler reports the real reason.
    this.child.stdin.write(chunk, encoding, () => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.child.stdin.end(() => callback());
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.child.stdin.destroy();
    this.child.stdout.destroy();
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill();
    callback(error);
  }

  ref(): this {
    this.child.ref();
    for (const pipe of [this.child.stdin, this.child.stdout, this.child.stderr]) (pipe as unknown as { ref?(): void }).ref?.();
    return this;
  }

  unref(): this {
    this.child.unref();
    for (const pipe of [this.child.stdin, this.child.stdout, this.child.stderr]) (pipe as unknown as { unref?(): void }).unref?.();
    return this;
  }

  setKeepAlive(): this {
    return this;
  }

  setNoDelay(): this {
    return this;
  }

  // Idle pooled connections are unref'd and die with the process; a hung call is bounded by the API timeout.
  setTimeout(ms: number): this {
    this.timeout = ms;
    return this;
  }
}

/** A keep-alive pool of ssh connections: one ssh process serves one request after another. */
export class SshAgent extends HttpAgent {
  constructor(
    private readonly endpoint: SshEndpoint,
    private readonly configFile: string | undefined,
  ) {
    super({ keepAlive: true });
  }

  override createConnection(): Duplex {
    return new SshConnection(this.endpoint, this.configFile);
  }
}
