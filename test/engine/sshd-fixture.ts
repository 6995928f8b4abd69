import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../free-port.js";

/**
 * A real `sshd` on 127.0.0.1 (a free port) whose root login runs `docker` against the local engine: an ssh://
 * engine without a second machine. Keys, config and known_hosts live in a fresh temp folder that `stop()` removes.
 * Needs openssh-server (`apt-get install -y openssh-server`; `scripts/engine.sh` installs it on a fresh machine).
 */
export interface SshdFixture {
  port: number;
  /** `ssh://root@127.0.0.1:PORT`. */
  url: string;
  /** An ssh_config with the client key and a known_hosts that holds this server's real host key. */
  configFile: string;
  /** The same, but with a known_hosts that holds another key for this host (a changed or spoofed key). */
  wrongKeyConfigFile: string;
  /** The same, but with an empty known_hosts (a host never seen). */
  unknownHostConfigFile: string;
  /** Connections sshd accepted so far (one per ssh process that reached the engine). */
  acceptedConnections(): number;
  stop(): Promise<void>;
}

/** Why the fixture cannot run here, or `undefined` when it can. */
export function sshdUnavailable(): string | undefined {
  if (!existsSync("/usr/sbin/sshd") || !existsSync("/usr/bin/ssh"))
    return "no /usr/sbin/sshd or /usr/bin/ssh (apt-get install -y openssh-server)";
  // sshd's privilege separation and a root login to reach the engine's socket.
  if (process.getuid?.() !== 0) return "sshd and its root login need root";
  return undefined;
}

const keygen = (path: string) => execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "throwaway-test", "-f", path]);

export async function startSshd(): Promise<SshdFixture> {
  const dir = await mkdtemp(join(tmpdir(), "throwaway-sshd-"));
  let sshd: ChildProcess | undefined;
  try {
    keygen(join(dir, "host_key"));
    keygen(join(dir, "other_host_key"));
    keygen(join(dir, "client_key"));
    // sshd's privilege separation needs this empty folder (the package makes it at boot, not at install).
    if (!existsSync("/run/sshd")) mkdirSync("/run/sshd", { mode: 0o755 });
    const port = await freePort();
    const clientKey = await readFile(join(dir, "client_key.pub"), "utf8");
    // The key may only open the engine's stdio, nothing else.
    await writeFile(join(dir, "authorized_keys"), `restrict,command="docker system dial-stdio" ${clientKey}`, { mode: 0o600 });
    await writeFile(
      join(dir, "sshd_config"),
      [
        "ListenAddress 127.0.0.1",
        `Port ${port}`,
        `HostKey ${join(dir, "host_key")}`,
        `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
        `PidFile ${join(dir, "sshd.pid")}`,
        // The temp folder sits in world-writable /tmp, which StrictModes refuses.
        "StrictModes no",
        "PermitRootLogin prohibit-password",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "LogLevel INFO",
        "",
      ].join("\n"),
    );
    const hostKey = (await readFile(join(dir, "host_key.pub"), "utf8")).split(" ").slice(0, 2).join(" ");
    const otherKey = (await readFile(join(dir, "other_host_key.pub"), "utf8")).split(" ").slice(0, 2).join(" ");
    await writeFile(join(dir, "known_hosts"), `[127.0.0.1]:${port} ${hostKey}\n`);
    await writeFile(join(dir, "wrong_known_hosts"), `[127.0.0.1]:${port} ${otherKey}\n`);
    await writeFile(join(dir, "empty_known_hosts"), "");
    const clientConfig = (knownHosts: string) =>
      [
        "Host *",
        `  IdentityFile ${join(dir, "client_key")}`,
        "  IdentitiesOnly yes",
        `  UserKnownHostsFile ${join(dir, knownHosts)}`,
        "  GlobalKnownHostsFile /dev/null",
        "  LogLevel ERROR",
        "",
      ].join("\n");
    await writeFile(join(dir, "ssh_config"), clientConfig("known_hosts"));
    await writeFile(join(dir, "wrong_ssh_config"), clientConfig("wrong_known_hosts"));
    await writeFile(join(dir, "unknown_ssh_config"), clientConfig("empty_known_hosts"));

    const child = spawn("/usr/sbin/sshd", ["-D", "-e", "-f", join(dir, "sshd_config")], { stdio: ["ignore", "ignore", "pipe"] });
    sshd = child;
    let log = "";
    await new Promise<void>((resolve, reject) => {
      child.stderr?.on("data", (chunk: Buffer) => {
        log += chunk.toString();
        if (log.includes("Server listening on 127.0.0.1")) resolve();
      });
      child.once("exit", (code) => reject(new Error(`sshd exited with ${code}: ${log}`)));
      child.once("error", reject);
    });
    return {
      port,
      url: `ssh://root@127.0.0.1:${port}`,
      configFile: join(dir, "ssh_config"),
      wrongKeyConfigFile: join(dir, "wrong_ssh_config"),
      unknownHostConfigFile: join(dir, "unknown_ssh_config"),
      acceptedConnections: () => log.split("\n").filter((line) => line.includes("Accepted publickey")).length,
      stop: async () => {
        if (child.exitCode === null) {
          const exited = new Promise((resolve) => child.once("exit", resolve));
          child.kill();
          await exited;
        }
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    sshd?.kill();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
