import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
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

export async function machineFacts() {
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
      userlandProxy: "default (docker-proxy on)",
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
