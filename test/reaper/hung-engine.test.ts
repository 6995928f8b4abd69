import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WatchdogConfig } from "../../src/reaper/protocol.js";
import { newSessionId, ROOT, requireBuild } from "./helpers.js";

let dir: string;
let hung: Server;
const accepted = new Set<Socket>();

beforeAll(async () => {
  requireBuild();
  dir = await mkdtemp(join(tmpdir(), "throwaway-hung-engine-"));
  // An engine that accepts connections and never answers (a dockerd stuck on a lock).
  hung = createServer((socket) => {
    accepted.add(socket);
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => hung.listen(join(dir, "hung.sock"), resolve));
});

afterAll(async () => {
  for (const socket of accepted) socket.destroy();
  await new Promise((resolve) => hung.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

describe("the watchdog and an engine that hangs", () => {
  it("gives up on each call after THROWAWAY_API_TIMEOUT, says which call, and exits", async () => {
    const config: WatchdogConfig = {
      v: 1,
      sessionId: newSessionId(),
      socketPath: join(dir, "watchdog.sock"),
      endpoints: [{ kind: "unix", source: "test", socketPath: join(dir, "hung.sock") }],
      spawnerPid: process.pid,
      graceMs: 0,
      logFile: join(dir, "watchdog.log"),
      verbose: true,
    };
    const watchdog = spawn(process.execPath, [`${ROOT}dist/reaper/watchdog.js`, JSON.stringify(config)], {
      stdio: ["ignore", "ignore", "ignore", "pipe"],
      env: { ...process.env, THROWAWAY_API_TIMEOUT: "300" },
    });
    const exited = new Promise<number | null>((resolve) => watchdog.once("exit", (code) => resolve(code)));
    const spawnerEnd = watchdog.stdio[3] as Readable;
    await new Promise<void>((resolve, reject) => {
      spawnerEnd.once("data", (line: Buffer) =>
        String(line).startsWith("ready") ? resolve() : reject(new Error(`watchdog said: ${String(line)}`)),
      );
    });
    // The session's only process goes away: the watchdog reaps, on an engine that never answers.
    spawnerEnd.destroy();
    expect(await exited).toBe(0);
    const log = await readFile(config.logFile, "utf8");
    expect(log).toMatch(/did not answer GET \/\S*containers\/json within 300 ms/);
    expect(log).toContain("done");
    expect(accepted.size).toBeGreaterThan(0);
  }, 60_000);
});
