// Starts test/support/stalling-registry.mjs inside the dedicated engine's network namespace, where the engine's
// 127.0.0.1 is, and follows what it reports.
import { join } from "node:path";
import { createInterface } from "node:readline";
import { ROOT } from "../reaper/helpers.js";
import type { DedicatedEngine } from "./dedicated-engine.js";

export interface StallingRegistry {
  /** `127.0.0.1:PORT`, as the engine reaches it. */
  host: string;
  /** Layer downloads that started, ever. */
  stallsStarted(): number;
  close(): Promise<void>;
}

export async function startStallingRegistry(engine: DedicatedEngine): Promise<StallingRegistry> {
  const child = engine.spawnInside(process.execPath, [join(ROOT, "test/support/stalling-registry.mjs")]);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  let stalls = 0;
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    lines.on("line", (line) => {
      if (line === "stall") stalls++;
      else resolve((JSON.parse(line) as { port: number }).port);
    });
    void exited.then(() => reject(new Error(`the stalling registry exited before listening:\n${stderr}`)));
  });
  return {
    host: `127.0.0.1:${port}`,
    stallsStarted: () => stalls,
    close: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}
