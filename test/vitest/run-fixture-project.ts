import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { LABELS } from "throwaway";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CONFIG = fileURLToPath(new URL("./fixture-project/vitest.config.ts", import.meta.url));
const VITEST = join(ROOT, "node_modules", "vitest", "vitest.mjs");
export const RUN_LABEL = "test.throwaway.fixture-run";
export const SCOPE_LABEL = "test.throwaway.fixture-scope";

export interface FixtureRun {
  exitCode: number | null;
  /** What the default reporter printed (stdout and stderr, no colours). */
  output: string;
  /** The JSON reporter's result. */
  results: { numPassedTests: number; numFailedTests: number; testResults: { assertionResults: { title: string; status: string }[] }[] };
  /** Lines the fixture project's tests and fixtures wrote (see fixture-project/report.ts). */
  report: Record<string, unknown>[];
  /** Every container the run created, as the engine's `create` events tell: its scope and session labels. */
  created: { scope: string; session: string }[];
  /** Containers of the run still on the engine afterwards. */
  remaining: string[];
}

/**
 * Runs the fixture project in a child vitest process, as a user would (`vitest run`), and gathers what it did. The
 * child gets no session id from us: its global setup must create one and its workers must join it.
 */
export async function runFixtureProject(options: { pool: "forks" | "threads"; filters: string[] }): Promise<FixtureRun> {
  const dir = mkdtempSync(join(tmpdir(), "throwaway-vitest-"));
  const runId = randomBytes(6).toString("hex");
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    // The outer run's worker variables and session would leak into the inner run.
    if (key.startsWith("VITEST") || key.startsWith("__VITEST") || key === "THROWAWAY_SESSION_ID" || key === "FORCE_COLOR") continue;
    env[key] = value;
  }
  Object.assign(env, {
    NO_COLOR: "1",
    FIXTURE_POOL: options.pool,
    FIXTURE_RUN_ID: runId,
    FIXTURE_REPORT: join(dir, "report.jsonl"),
  });
  const filter = `label=${RUN_LABEL}=${runId}`;
  // Watch the engine from before the run, live: `docker events --since` alone would read the engine's short replay
  // buffer afterwards, which other users of a shared engine can push our events out of.
  const watcher = spawn(
    "docker",
    [
      "events",
      "--since",
      String(Math.floor(Date.now() / 1000) - 1),
      "--filter",
      "type=container",
      "--filter",
      "event=create",
      "--filter",
      filter,
      "--format",
      "{{json .Actor.Attributes}}",
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  let events = "";
  watcher.stdout.on("data", (chunk: Buffer) => {
    events += chunk.toString();
  });
  const watcherClosed = new Promise((resolve) => watcher.once("close", resolve));
  try {
    const child = spawn(
      process.execPath,
      [
        VITEST,
        "run",
        "--config",
        CONFIG,
        "--reporter=default",
        "--reporter=json",
        `--outputFile.json=${join(dir, "results.json")}`,
        ...options.filters,
      ],
      { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exitCode = await new Promise<number | null>((resolve, reject) => {
      child.once("error", reject);
      child.once("close", resolve);
    });
    watcher.kill();
    await watcherClosed;
    const created = events
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, string>)
      .map((labels) => ({ scope: labels[SCOPE_LABEL] ?? "?", session: labels[LABELS.session] ?? "?" }));
    const remaining = (await run("docker", ["ps", "-aq", "--filter", filter])).stdout.split("\n").filter(Boolean);
    const report = readLines(join(dir, "report.jsonl"));
    const results = JSON.parse(readFileSync(join(dir, "results.json"), "utf8")) as FixtureRun["results"];
    return { exitCode, output, results, report, created, remaining };
  } finally {
    watcher.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

function readLines(file: string): Record<string, unknown>[] {
  try {
    return readFileSync(file, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  } catch {
    return [];
  }
}

/** How many of each value: `{ test: 9, file: 5 }`. */
export function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}
