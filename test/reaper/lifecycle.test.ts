import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { createConnection } from "node:net";
import { ContainerExitedError, GenericContainer, getEngine, Network, Wait, WaitTimeoutError } from "throwaway";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getSocketPath } from "../../src/reaper/socket-path.js";
import {
  exists,
  leftOf,
  NOTHING,
  newSessionId,
  type RunningChild,
  requireBuild,
  runChild,
  startChild,
  waitUntilGone,
  watchdogPids,
} from "./helpers.js";

const IMAGE = process.env.THROWAWAY_TEST_IMAGE ?? "busybox:latest";
/** In-process cases run without the watchdog, so only the process's own hooks can have removed anything. */
const NO_REAPER = { THROWAWAY_REAPER: "off" };

// Another run on the same engine, alive through every case: nothing any case does may touch it (issue case 6).
let bystander: RunningChild;

beforeAll(async () => {
  requireBuild();
  bystander = await startChild(newSessionId(), ["--containers", "1", "--network"]);
});

afterAll(async () => {
  if (!bystander) return;
  bystander.send("exit");
  await bystander.ended;
  expect(leftOf(bystander.report.session)).toEqual(NOTHING);
});

function expectBystanderAlive(): void {
  for (const id of bystander.report.containers) expect(exists("container", id), `bystander container ${id}`).toBe(true);
  for (const id of bystander.report.networks) expect(exists("network", id), `bystander network ${id}`).toBe(true);
}

function expectAllExist(child: RunningChild): void {
  expect(child.report.containers.length).toBeGreaterThan(0);
  for (const id of child.report.containers) expect(exists("container", id)).toBe(true);
  for (const id of child.report.networks) expect(exists("network", id)).toBe(true);
}

describe("1. a normal end", () => {
  it("removes what was disposed at once, and what the program forgot when its event loop runs dry", async () => {
    const child = await startChild(newSessionId(), ["--containers", "2", "--network"], NO_REAPER);
    expectAllExist(child);
    child.send("exit");
    expect(await child.ended).toEqual({ code: 0, signal: null });
    // Checked the instant it exited, with no watchdog: `beforeExit` did it.
    expect(leftOf(child.report.session)).toEqual(NOTHING);
    expectBystanderAlive();
  });

  it("removes a disposed container and network before `await using` moves on", async () => {
    let containerId = "";
    let networkId = "";
    {
      await using network = await new Network().start();
      await using container = await new GenericContainer(IMAGE).withCommand(["sleep", "3600"]).withNetwork(network).start();
      containerId = container.getId();
      networkId = network.getId();
      expect(exists("container", containerId)).toBe(true);
    }
    expect(exists("container", containerId)).toBe(false);
    expect(exists("network", networkId)).toBe(false);
  });
});

describe("2. a test that throws, a start that fails", () => {
  it("removes the container of a block that throws", async () => {
    let id = "";
    await expect(
      (async () => {
        await using container = await new GenericContainer(IMAGE).withCommand(["sleep", "3600"]).start();
        id = container.getId();
        throw new Error("assertion failed in the test");
      })(),
    ).rejects.toThrow("assertion failed in the test");
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(exists("container", id)).toBe(false);
  });

  it("removes the half-started container when the wait times out", async () => {
    const marker = randomBytes(6).toString("hex");
    const error = await new GenericContainer(IMAGE)
      .withCommand(["sleep", "3600"])
      .withLabels({ "test.reaper-case": marker })
      .withWaitStrategy(Wait.forLogMessage("never printed"))
      .withStartupTimeout(300)
      .start()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect((error as WaitTimeoutError).message).toContain("The container was removed");
    const engine = await getEngine();
    expect(await engine.listContainers({ label: [`test.reaper-case=${marker}`] })).toEqual([]);
  });

  it("removes the container that crashed while being waited for", async () => {
    const report = await runChild(newSessionId(), ["--failed-start", "crash"], NO_REAPER);
    expect(report.code).toBe(ContainerExitedError.CODE);
    expect(report.left).toEqual([]);
  });

  it("leaves the watchdog to remove what a process that died of an uncaught exception had", async () => {
    const child = await startChild(newSessionId(), ["--containers", "1", "--network"]);
    expectAllExist(child);
    child.send("throw");
    const end = await child.ended;
    expect(end.code).toBe(1);
    expect(child.stderr()).toContain("a test failed badly");
    expect(await waitUntilGone(child.report.session)).toEqual(NOTHING);
    expectBystanderAlive();
  });

  it("leaves the watchdog to remove what a process that called process.exit() had", async () => {
    const child = await startChild(newSessionId(), ["--containers", "1"]);
    child.send("process-exit");
    expect(await child.ended).toEqual({ code: 0, signal: null });
    expect(await waitUntilGone(child.report.session)).toEqual(NOTHING);
  });
});

describe("3. SIGINT and SIGTERM", () => {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    it(`${signal}: removes everything before the process dies, and the process still dies by ${signal}`, async () => {
      const child = await startChild(newSessionId(), ["--containers", "2", "--network"], NO_REAPER);
      expectAllExist(child);
      child.process.kill(signal);
      // Not swallowed: the parent sees the signal, exactly as without throwaway.
      expect(await child.ended).toEqual({ code: null, signal });
      expect(leftOf(child.report.session)).toEqual(NOTHING);
      expectBystanderAlive();
    });
  }

  it("leaves the exit to an app that handles the signal itself, and still removes the resources", async () => {
    const child = await startChild(newSessionId(), ["--containers", "1", "--own-sigterm-handler"], NO_REAPER);
    child.process.kill("SIGTERM");
    expect(await waitUntilGone(child.report.session)).toEqual(NOTHING);
    // Still running: its own handler decided not to exit. It ends when told to.
    expect(child.process.exitCode).toBe(null);
    expect(child.process.signalCode).toBe(null);
    child.send("exit");
    expect(await child.ended).toEqual({ code: 0, signal: null });
  });
});

describe("4. SIGKILL", () => {
  it("the watchdog removes everything after a SIGKILL of the process, then exits and removes its socket", async () => {
    const child = await startChild(newSessionId(), ["--containers", "2", "--network"]);
    expectAllExist(child);
    const socket = getSocketPath(child.report.session);
    expect(existsSync(socket)).toBe(true);
    expect(watchdogPids(child.report.session)).toHaveLength(1);
    child.process.kill("SIGKILL");
    expect(await child.ended).toEqual({ code: null, signal: "SIGKILL" });
    expect(await waitUntilGone(child.report.session)).toEqual(NOTHING);
    await waitFor(() => watchdogPids(child.report.session).length === 0);
    expect(existsSync(socket)).toBe(false);
    expectBystanderAlive();
  });

  it("the watchdog survives a SIGKILL of the whole process group (as CI cancellation sends) and removes everything", async () => {
    const child = await startChild(newSessionId(), ["--containers", "1", "--network", "--worker"]);
    expect(child.report.workerPid).toBeGreaterThan(0);
    expect(child.report.containers).toHaveLength(2);
    expectAllExist(child);
    process.kill(-child.process.pid!, "SIGKILL");
    expect(await child.ended).toEqual({ code: null, signal: "SIGKILL" });
    expect(await waitUntilGone(child.report.session)).toEqual(NOTHING);
    expectBystanderAlive();
  });

  it("recovers a stale socket left by a watchdog that was itself killed", async () => {
    const session = newSessionId();
    const path = getSocketPath(session);
    // Leave a socket file nobody listens on, as a SIGKILLed watchdog would.
    const killed = spawnSync(process.execPath, [
      "-e",
      `require("net").createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, "SIGKILL"))`,
    ]);
    expect(killed.signal).toBe("SIGKILL");
    expect(existsSync(path)).toBe(true);
    await expect(probe(path)).resolves.toBe(false);
    const child = await startChild(session, ["--containers", "1"]);
    await waitFor(() => watchdogPids(session).length === 1);
    await expect(probe(path)).resolves.toBe(true);
    child.process.kill("SIGKILL");
    expect(await waitUntilGone(session)).toEqual(NOTHING);
  });
});

describe("5. several processes of one session", () => {
  it("reaps nothing while one of them lives, even after another was killed, and everything after the last", async () => {
    const session = newSessionId();
    // Started together, so both may spawn a watchdog: one must win and the other join it.
    const [early, late] = await Promise.all([startChild(session, ["--containers", "1"]), startChild(session, ["--containers", "1"])]);
    await waitFor(() => watchdogPids(session).length === 1);
    early.process.kill("SIGKILL");
    await early.ended;
    // Well past the grace period (1 s): had the watchdog counted only its spawner, it would have reaped by now.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    for (const id of [...early.report.containers, ...late.report.containers]) expect(exists("container", id), id).toBe(true);
    late.send("exit");
    expect(await late.ended).toEqual({ code: 0, signal: null });
    // The late one removed its own; the watchdog removes what the killed one left.
    for (const id of late.report.containers) expect(exists("container", id)).toBe(false);
    expect(await waitUntilGone(session)).toEqual(NOTHING);
    expectBystanderAlive();
  });

  it("a process that ends early removes only its own resources", async () => {
    const session = newSessionId();
    const first = await startChild(session, ["--containers", "1"]);
    const second = await startChild(session, ["--containers", "1"]);
    first.send("exit");
    await first.ended;
    expect(exists("container", first.report.containers[0]!)).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(exists("container", second.report.containers[0]!)).toBe(true);
    second.process.kill("SIGTERM");
    expect(await second.ended).toEqual({ code: null, signal: "SIGTERM" });
    expect(leftOf(session)).toEqual(NOTHING);
  });
});

async function waitFor(condition: () => boolean, limitMs = 20_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${limitMs} ms: ${condition}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function probe(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection(path);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
