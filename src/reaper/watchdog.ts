/**
 * The watchdog program: `node dist/reaper/watchdog.js '<config JSON>'`, spawned detached by the first process of a
 * session (see `watchdog-client.ts`), with the other end of a socket pair on fd 3. Not a public module.
 */
import { fstatSync } from "node:fs";
import { Socket } from "node:net";
import { dirname } from "node:path";
import { appendLog } from "./log-file.js";
import type { WatchdogConfig } from "./protocol.js";
import { checkSocketDir } from "./socket-path.js";
import { runWatchdog } from "./watchdog-server.js";

function readConfig(): WatchdogConfig {
  const config = JSON.parse(process.argv[2] ?? "") as WatchdogConfig;
  if (config.v !== 1 || typeof config.sessionId !== "string" || typeof config.socketPath !== "string") {
    throw new Error(`unsupported watchdog configuration: ${process.argv[2]}`);
  }
  return config;
}

function openSpawner(): Socket | undefined {
  try {
    fstatSync(3);
  } catch {
    return undefined; // started by hand, for debugging
  }
  return new Socket({ fd: 3, readable: true, writable: true });
}

const spawner = openSpawner();
let config: WatchdogConfig | undefined;
try {
  config = readConfig();
  await runWatchdog(config, spawner);
} catch (error) {
  const text = error instanceof Error ? error.message : String(error);
  try {
    // Only into a folder that passed the check: the failure may be that it did not.
    if (config?.logFile) {
      if (process.platform !== "win32") checkSocketDir(dirname(config.logFile));
      appendLog(config.logFile, `${new Date().toISOString()} [${process.pid}] failed: ${text}\n`);
    }
  } catch {
    // The spawner hears it on fd 3 below.
  }
  if (spawner && !spawner.destroyed) spawner.end(`error ${text.replace(/\s+/g, " ")}\n`, () => process.exit(1));
  else process.exit(1);
}
