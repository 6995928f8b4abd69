// Teardown when the test process is SIGKILLed: the session's watchdog (a process on this machine) removes what it
// started, on this engine too (its endpoint, TLS material included, is handed to the watchdog).
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { getEngine, LABELS } from "throwaway";
import { describe, expect, it } from "vitest";
import { requireBuild } from "../support/cli-up/cli-child.js";
import { traits } from "./profile.js";

const KILLED = fileURLToPath(new URL("../runtimes/killed.mjs", import.meta.url));

describe(`the reaper on ${traits.description}`, () => {
  it("removes the container of a process killed with SIGKILL", async () => {
    requireBuild();
    const session = `engines-killed-${randomBytes(4).toString("hex")}`;
    const child = spawn(process.execPath, [KILLED], { env: { ...process.env, THROWAWAY_SESSION_ID: session }, stdio: "ignore" });
    const signal = await new Promise((resolve) => child.once("exit", (_code, sig) => resolve(sig)));
    expect(signal).toBe("SIGKILL");
    const engine = await getEngine();
    const ours = () => engine.listContainers({ label: [`${LABELS.session}=${session}`] });
    const deadline = Date.now() + 20_000;
    while ((await ours()).length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await ours()).toEqual([]);
  });
});
