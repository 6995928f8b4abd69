import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { cpus, loadavg, release, totalmem } from "node:os";
import { docker } from "./docker.mjs";

/** What the numbers were measured on and with: recorded in every results file. */

const root = new URL("../../", import.meta.url);

function readJson(relative) {
  try {
    return JSON.parse(readFileSync(new URL(relative, root), "utf8"));
  } catch {
    return undefined;
  }
}

function osName() {
  try {
    return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync("/etc/os-release", "utf8"))?.[1] ?? "unknown";
  } catch {
    return "unknown";
  }
}

/** Whether published ports go through docker-proxy (it accepts connections before the service listens). */
function userlandProxy() {
  try {
    const config = JSON.parse(readFileSync("/etc/docker/daemon.json", "utf8"));
    return config["userland-proxy"] === false ? "off (daemon.json)" : "on (the daemon's default)";
  } catch (error) {
    return error?.code === "ENOENT" ? "on (the daemon's default)" : "unknown";
  }
}

/**
 * Processes still running whose command line names one of this run's throwaway sessions (the reaper's watchdogs,
 * which must exit on their own once their session's processes are gone). Linux only; elsewhere none are found.
 * @param {string} sessionPrefix
 */
export function processesOfSessions(sessionPrefix) {
  const found = [];
  let pids = [];
  try {
    pids = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return found;
  }
  for (const pid of pids) {
    if (Number(pid) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim();
      if (cmdline.includes(`"sessionId":"${sessionPrefix}`)) found.push(`${pid} ${cmdline.slice(0, 160)}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** @param {{ localEngine?: boolean }} [options] `localEngine: false` for a run on another engine (issue 14) */
export async function machineFacts({ localEngine = true } = {}) {
  const version = JSON.parse(await docker(["version", "--format", "{{json .}}"]));
  const info = JSON.parse(await docker(["info", "--format", "{{json .}}"]));
  return {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model ?? "unknown",
    memoryBytes: totalmem(),
    kernel: release(),
    os: osName(),
    loadAverageAtStart: loadavg(),
    docker: {
      client: version.Client?.Version,
      server: version.Server?.Version,
      api: version.Server?.ApiVersion,
      storageDriver: info.Driver,
      cgroupDriver: info.CgroupDriver,
      cgroupVersion: info.CgroupVersion,
      // daemon.json is the local dockerd's; another engine publishes ports its own way.
      userlandProxy: localEngine ? userlandProxy() : "n/a (not the local dockerd)",
      runningContainersAtStart: info.ContainersRunning,
    },
  };
}

function git(args) {
  try {
    return execFileSync("git", args, { cwd: new URL(".", root), encoding: "utf8" }).trim();
  } catch {
    return undefined;
  }
}

/** @param {{ version: string, source: string }} node */
export function versions(node) {
  const dirty = git(["status", "--porcelain", "--untracked-files=no", "--", "src"]);
  return {
    node: node.version,
    nodeSource: node.source,
    orchestratorNode: process.version,
    throwaway: readJson("package.json")?.version,
    throwawayCommit: git(["rev-parse", "--short=12", "HEAD"]),
    throwawaySourceDirty: dirty === undefined ? undefined : dirty.length > 0,
    testcontainers: readJson("node_modules/testcontainers/package.json")?.version,
    dockerodeThrowaway: readJson("node_modules/dockerode/package.json")?.version,
    dockerodeTestcontainers:
      readJson("node_modules/testcontainers/node_modules/dockerode/package.json")?.version ??
      readJson("node_modules/dockerode/package.json")?.version,
    mysql2: readJson("node_modules/mysql2/package.json")?.version,
  };
}
