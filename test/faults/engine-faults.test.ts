// Faults injected into a real engine of the tests' own (see dedicated-engine.ts). Each must end in a typed error
// that says what happened, and leave nothing behind.
import { ContainerExitedError, Engine, GenericContainer, setEngine, Wait } from "throwaway";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { cannotRunDedicatedEngine, DedicatedEngine } from "./dedicated-engine.js";

const IMAGE = "busybox:latest";
const NOTHING = { containers: [], images: [], networks: [], volumes: [] };
const skip = cannotRunDedicatedEngine();

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection, but it resolved");
}

describe.skipIf(skip)("engine faults, on a dedicated dockerd", () => {
  let engine: DedicatedEngine;

  beforeAll(async () => {
    engine = await DedicatedEngine.create({ dataRootMiB: 160 });
    engine.loadFromMainEngine(IMAGE);
    // This worker's session watchdog serves the main engine; the fault cases clean up after themselves (and a
    // vanished engine has nothing left to reap).
    vi.stubEnv("THROWAWAY_REAPER", "off");
    setEngine(new Engine({ kind: "unix", source: "fault tests", socketPath: engine.socketPath }));
  });

  afterAll(async () => {
    setEngine(undefined);
    vi.unstubAllEnvs();
    await engine?.destroy();
  });

  it("a container killed by the OOM killer fails its start with ContainerExitedError naming the OOM kill", async () => {
    const error = await rejection(
      new GenericContainer(IMAGE)
        // `tail` (the main process) holds its whole input while waiting for a newline that never comes.
        .withCommand(["tail", "/dev/zero"])
        .withResources({ memoryBytes: 16 * 1024 * 1024 })
        .withWaitStrategy(Wait.forLogMessage("never printed"))
        .start(),
    );
    expect(error).toBeInstanceOf(ContainerExitedError);
    const exited = error as ContainerExitedError;
    expect(exited.oomKilled).toBe(true);
    expect(exited.shortMessage).toMatch(/OOM-killed/);
    expect(exited.shortMessage).toMatch(/memory limit 16 MiB/);
    expect(engine.leftovers([IMAGE])).toEqual(NOTHING);
  });
});
