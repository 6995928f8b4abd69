import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const CHILD = `${ROOT}test/support/reaper-child.mjs`;
const SESSION_LABEL = "dev.throwaway.session-id";

/** The fixtures import the built package: say how to get it instead of failing on an import error. */
export function requireBuild(): void {
  if (!existsSync(`${ROOT}dist/index.js`) || !existsSync(`${ROOT}dist/reaper/watchdog.js`)) {
    throw new Error("These tests run the built package: run `npm run build` first (npm test does)");
  }
}

export function newSessionId(): string {
  return `reaper-test-${randomBytes(6).toString("hex")}`;
}

/** What the fixture prints once its resources exist. */
export interface ChildReport {
  session: string;
  pid: number;
  workerPid?: number;
  containers: string[];
  networks: string[];
}

export interface RunningChild {
  process: ChildProcessWithoutNullStreams;
  report: ChildReport;
  /** Resolves with how the process ended. */
  ended: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: () => string;
  send(command: "exit" | "throw" | "process-exit"): void;
}

/**
 * Starts the fixture in its own process group (so a test can kill the group as CI does, and Ctrl-C of the test
 * run never reaches it twice) and resolves once it has printed its resources.
 */
export async function startChild(session: string, args: string[] = [], env: Record<string, string> = {}): Promise<RunningChild> {
  const child = spawn(process.execPath, [CHILD, ...args], {
    env: { ...process.env, THROWAWAY_SESSION_ID: session, ...env },
    stdio: ["pipe", "pipe", "pipe"],
    detached: true,
  });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  // `close`, not `exit`: only then has everything the process wrote to stderr arrived (a crash's stack included).
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("close", (code, signal) => resolve({ code, signal })),
  );
  const line = await Promise.race([
    new Promise<string>((resolve) => createInterface({ input: child.stdout }).once("line", resolve)),
    ended.then(({ code, signal }) => {
      throw new Error(`the fixture ended (code ${code}, signal ${signal}) before reporting:\n${stderr}`);
    }),
  ]);
  return {
    process: child,
    report: JSON.parse(line) as ChildReport,
    ended,
    stderr: () => stderr,
    send: (command) => child.stdin.write(`${command}\n`),
  };
}

/** Runs the fixture to completion and returns its one JSON line. */
export async function runChild(session: string, args: string[], env: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const child = spawn(process.execPath, [CHILD, ...args], {
    env: { ...process.env, THROWAWAY_SESSION_ID: session, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
  if (code !== 0) throw new Error(`the fixture failed with code ${code}:\n${stderr}`);
  return JSON.parse(stdout.trim().split("\n").pop()!) as Record<string, unknown>;
}

/** What the engine still has of a session, asked with the docker CLI (not with the code under test). */
export function leftOf(session: string): { containers: string[]; networks: string[] } {
  const list = (args: string[]) =>
    execFileSync("docker", [...args, "-q", "--no-trunc", "--filter", `label=${SESSION_LABEL}=${session}`], { encoding: "utf8" })
      .split("\n")
      .filter(Boolean);
  return { containers: list(["ps", "-a"]), networks: list(["network", "ls"]) };
}

export function exists(kind: "container" | "network", id: string): boolean {
  try {
    execFileSync("docker", [kind, "inspect", "--format", "{{.Id}}", id], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/**
 * Waits until nothing of the session is left on the engine (or only `keep`), or `limitMs` passed; returns what is
 * left. The limit is a safety net against a hung test, not the speed claim (that one is measured by
 * test/support/reaper-bench.mjs).
 */
export async function waitUntilGone(
  session: string,
  options: { limitMs?: number; keep?: string[] } = {},
): Promise<{ containers: string[]; networks: string[] }> {
  const deadline = Date.now() + (options.limitMs ?? 20_000);
  const keep = new Set(options.keep ?? []);
  for (;;) {
    const left = leftOf(session);
    const done = left.containers.every((id) => keep.has(id)) && left.networks.length === 0;
    if (done || Date.now() > deadline) return left;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The watchdog processes serving `session` (from `ps`: their command line names the session). */
export function watchdogPids(session: string): number[] {
  // Every process's whole command line: on a machine running Podman that is megabytes (each conmon's is ~2.5 KiB),
  // past execFileSync's default 1 MiB buffer (ENOBUFS).
  const out = execFileSync("ps", ["-eo", "pid=,args="], { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  return out
    .split("\n")
    .filter((line) => line.includes("reaper/watchdog.js") && line.includes(`"sessionId":"${session}"`))
    .map((line) => Number(line.trim().split(/\s+/)[0]));
}

export const NOTHING = { containers: [], networks: [] };
