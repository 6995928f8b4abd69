// A Docker engine of the fault tests' own: its own dockerd (and the containerd it supervises) in its own network
// namespace, data root on a small tmpfs, exec root, pid file, socket and daemon.json in a fresh temp dir, so
// stopping, killing or filling it can never touch the machine's main engine. The network namespace matters: a
// dockerd in the host's namespace deletes the host's docker0 when told `--bridge=none`, and would share its
// iptables otherwise. Root only.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmdirSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Why the fault tests cannot run here, or undefined when they can. */
export function cannotRunDedicatedEngine(): string | undefined {
  if (process.platform !== "linux") return "needs Linux";
  if (process.getuid?.() !== 0) return "needs root (it starts its own dockerd and mounts a tmpfs)";
  for (const tool of ["dockerd", "docker", "mount", "ip", "nsenter"]) {
    try {
      execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" });
    } catch {
      return `needs ${tool}`;
    }
  }
  return undefined;
}

export interface DedicatedEngineOptions {
  /** Size of the tmpfs data root (MiB): small enough for a build to fill it. */
  dataRootMiB: number;
}

export class DedicatedEngine {
  readonly dir: string;
  readonly socketPath: string;
  /** `unix://...`, for DOCKER_HOST. */
  readonly host: string;
  private readonly dataRoot: string;
  private readonly name: string;
  private readonly logFile: string;
  private daemon: ChildProcess | undefined;
  private netnsCreated = false;
  private exited: Promise<void> | undefined;

  private constructor() {
    // Short: the socket path must fit a sockaddr_un (108 bytes), and containerd's shim sockets live below it.
    this.dir = mkdtempSync(join(tmpdir(), "tw-faults-"));
    this.name = `tw-faults-${randomBytes(3).toString("hex")}`;
    this.socketPath = join(this.dir, "docker.sock");
    this.host = `unix://${this.socketPath}`;
    this.dataRoot = join(this.dir, "root");
    this.logFile = join(this.dir, "dockerd.log");
  }

  /** Creates the folders, mounts the data root and starts dockerd; cleans up after itself when that fails. */
  static async create(options: DedicatedEngineOptions): Promise<DedicatedEngine> {
    const engine = new DedicatedEngine();
    try {
      execFileSync("ip", ["netns", "add", engine.name]);
      engine.netnsCreated = true;
      // Not `ip netns exec`: it remounts /sys, and dockerd then finds no cgroups.
      engine.runInside("ip", ["link", "set", "lo", "up"]);
      mkdirSync(engine.dataRoot);
      mkdirSync(join(engine.dir, "exec"));
      execFileSync("mount", ["-t", "tmpfs", "-o", `size=${options.dataRootMiB}m,mode=0700`, engine.name, engine.dataRoot]);
      // Our own (empty) daemon.json: the machine's names the shared registry mirror and whatever else.
      writeFileSync(join(engine.dir, "daemon.json"), "{}\n");
      await engine.start();
      return engine;
    } catch (error) {
      await engine.destroy().catch(() => {});
      throw error;
    }
  }

  /** The network namespace's path, for `nsenter --net=`. */
  get netnsPath(): string {
    return `/var/run/netns/${this.name}`;
  }

  /** Runs a command inside the engine's network namespace (where its 127.0.0.1 is). */
  runInside(command: string, args: string[]): string {
    return execFileSync("nsenter", [`--net=${this.netnsPath}`, command, ...args], { encoding: "utf8" });
  }

  /** Starts a long-running process inside the engine's network namespace. */
  spawnInside(command: string, args: string[]): ChildProcess {
    return spawn("nsenter", [`--net=${this.netnsPath}`, command, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  }

  get running(): boolean {
    return this.daemon !== undefined;
  }

  /** Starts dockerd detached (as scripts/engine.sh does) and resolves once it answers `/_ping`. */
  async start(): Promise<void> {
    if (this.daemon) return;
    const log = openSync(this.logFile, "a");
    const args = [
      "--config-file",
      join(this.dir, "daemon.json"),
      "--data-root",
      this.dataRoot,
      "--exec-root",
      join(this.dir, "exec"),
      "--pidfile",
      join(this.dir, "dockerd.pid"),
      "-H",
      this.host,
      // Its iptables are the namespace's own; it needs none.
      "--iptables=false",
      "--ip-masq=false",
      "--userland-proxy=false",
      // Its containers and containerd state apart from the main engine's, even where the kernel names are global.
      "--containerd-namespace",
      this.name,
      "--containerd-plugins-namespace",
      `${this.name}-plugins`,
      "--cgroup-parent",
      `/${this.name}`,
    ];
    // nsenter execs dockerd in place: the pid (and the signals sent to it) are dockerd's.
    const daemon = spawn("nsenter", [`--net=${this.netnsPath}`, "dockerd", ...args], { detached: true, stdio: ["ignore", log, log] });
    closeSync(log);
    this.daemon = daemon;
    this.exited = new Promise((resolve) => daemon.once("exit", () => resolve()));
    void this.exited.then(() => {
      if (this.daemon === daemon) this.daemon = undefined;
    });
    const deadline = Date.now() + 60_000;
    while (!(await this.answers())) {
      if (this.daemon !== daemon) throw new Error(`the dedicated dockerd exited while starting:\n${this.logTail()}`);
      if (Date.now() > deadline) throw new Error(`the dedicated dockerd did not answer within 60 s:\n${this.logTail()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** SIGTERM, then SIGKILL if it is still there after 30 s: scripts/engine.sh's stop. */
  async stop(): Promise<void> {
    const daemon = this.daemon;
    if (!daemon) return;
    daemon.kill("SIGTERM");
    const timer = setTimeout(() => daemon.kill("SIGKILL"), 30_000);
    await this.exited;
    clearTimeout(timer);
  }

  /** The engine dies at once (SIGKILL) and its socket file goes with it: nothing answers there again. */
  async vanish(): Promise<void> {
    const daemon = this.daemon;
    if (daemon) {
      daemon.kill("SIGKILL");
      await this.exited;
    }
    try {
      unlinkSync(this.socketPath);
    } catch {
      // Already gone.
    }
  }

  /** Runs the docker CLI against this engine. */
  docker(...args: string[]): string {
    return execFileSync("docker", ["-H", this.host, ...args], { encoding: "utf8" }).trim();
  }

  /** Copies an image from the main engine (read only there). */
  loadFromMainEngine(image: string): void {
    execFileSync("sh", ["-c", 'docker save "$1" | docker -H "$2" load -q', "sh", image, this.host], { stdio: "ignore" });
  }

  /** Everything of ours this engine holds besides what {@link loadFromMainEngine} put there. */
  leftovers(keepImages: string[]): { containers: string[]; images: string[]; networks: string[]; volumes: string[] } {
    const lines = (text: string) => text.split("\n").filter(Boolean);
    const keep = new Set(keepImages.map((image) => this.docker("image", "inspect", "--format", "{{.Id}}", image)));
    return {
      containers: lines(this.docker("ps", "-aq")),
      images: lines(this.docker("images", "-aq", "--no-trunc")).filter((id) => !keep.has(id)),
      networks: lines(this.docker("network", "ls", "-q", "--filter", "type=custom")),
      volumes: lines(this.docker("volume", "ls", "-q")),
    };
  }

  /** `df` of the data root, in KiB used. */
  usedKiB(): number {
    const out = execFileSync("df", ["-k", "--output=used", this.dataRoot], { encoding: "utf8" });
    return Number(out.trim().split("\n").pop());
  }

  logTail(lines = 20): string {
    try {
      return readFileSync(this.logFile, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
    } catch {
      return "(no log)";
    }
  }

  /**
   * Removes every trace, whatever state the engine is in: kills what a crashed daemon left running (its containers
   * live on in our cgroup, its shims from our exec root), brings the daemon back to remove every container, stops
   * it, unmounts the data root with whatever is mounted below it, and deletes the folder and the cgroups.
   */
  async destroy(): Promise<void> {
    if (!this.daemon) this.killStragglers();
    if (existsSync(join(this.dir, "exec"))) {
      try {
        await this.start();
        const ids = this.docker("ps", "-aq").split("\n").filter(Boolean);
        if (ids.length) this.docker("rm", "-f", ...ids);
      } catch {
        // Whatever it could not remove is unmounted and deleted below.
      }
      await this.stop();
    }
    this.killStragglers();
    // The data root and what a crashed daemon left mounted below its folders (overlays, containers' netns files).
    for (const mountPoint of mountsUnder(this.dir)) {
      try {
        execFileSync("umount", [mountPoint], { stdio: "ignore" });
      } catch {
        try {
          execFileSync("umount", ["-l", mountPoint], { stdio: "ignore" });
        } catch {
          // Gone with its parent.
        }
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
    for (const controller of safeReaddir("/sys/fs/cgroup")) removeCgroup(join("/sys/fs/cgroup", controller, this.name));
    if (this.netnsCreated) {
      try {
        execFileSync("ip", ["netns", "delete", this.name], { stdio: "ignore" });
      } catch {
        // Already gone.
      }
    }
  }

  /** SIGKILLs every process in this engine's cgroups (containers) and every one running from its folder. */
  private killStragglers(): void {
    const pids = new Set(processesUsing(this.dir));
    for (const controller of safeReaddir("/sys/fs/cgroup")) {
      for (const pid of cgroupProcesses(join("/sys/fs/cgroup", controller, this.name))) pids.add(pid);
    }
    if (this.netnsCreated) for (const pid of processesIn(this.netnsPath)) pids.add(pid);
    pids.delete(process.pid);
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Gone meanwhile.
      }
    }
  }

  private answers(): Promise<boolean> {
    return new Promise((resolve) => {
      const req = request({ socketPath: this.socketPath, path: "/_ping", timeout: 2000 }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.on("error", () => resolve(false));
      req.on("timeout", () => req.destroy());
      req.end();
    });
  }
}

/** Pids of processes whose command line names `dir` (containerd and its shims run from our exec root). */
function processesUsing(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of safeReaddir("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(dir)) pids.push(Number(entry));
    } catch {
      // Exited meanwhile.
    }
  }
  return pids;
}

/** Mount points at or below `dir`, deepest first (so each unmounts before what it sits on). */
function mountsUnder(dir: string): string[] {
  const mounts = readFileSync("/proc/self/mounts", "utf8")
    .split("\n")
    .map((line) => line.split(" ")[1]?.replace(/\\040/g, " "))
    .filter((point): point is string => point !== undefined && (point === dir || point.startsWith(`${dir}/`)));
  return [...new Set(mounts)].sort((a, b) => b.length - a.length);
}

/** Pids of processes in the network namespace at `path` (a fault test's registry, say). */
function processesIn(path: string): number[] {
  let inode: number;
  try {
    inode = statSync(path).ino;
  } catch {
    return [];
  }
  return safeReaddir("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        return readlinkSync(`/proc/${entry}/ns/net`) === `net:[${inode}]`;
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Every pid in a cgroup and the cgroups below it. */
function cgroupProcesses(dir: string): number[] {
  const pids: number[] = [];
  try {
    pids.push(...readFileSync(join(dir, "cgroup.procs"), "utf8").split("\n").filter(Boolean).map(Number));
  } catch {
    return pids;
  }
  for (const entry of safeReaddir(dir)) {
    if (existsSync(join(dir, entry, "cgroup.procs"))) pids.push(...cgroupProcesses(join(dir, entry)));
  }
  return pids;
}

/** Removes a cgroup and those below it, deepest first (a cgroup goes only once empty of processes and children). */
function removeCgroup(dir: string): void {
  for (const entry of safeReaddir(dir)) {
    if (existsSync(join(dir, entry, "cgroup.procs"))) removeCgroup(join(dir, entry));
  }
  try {
    rmdirSync(dir);
  } catch {
    // Not there, or still busy: nothing of ours runs in it any more, so the kernel lets it go with its last process.
  }
}

function safeReaddir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}
