// Faults injected into a real engine of the tests' own (see dedicated-engine.ts): a restart in the middle of a run,
// an engine that vanishes for good, the OOM killer, a full disk during a build and a registry that hangs mid-pull.
// Each must end in a typed error that says what happened, and leave nothing behind.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import {
  ContainerExitedError,
  DockerfileBuilder,
  Engine,
  EngineConnectionError,
  GenericContainer,
  ImageBuildError,
  ImagePullError,
  LABELS,
  setEngine,
  Wait,
  type WaitStrategy,
} from "throwaway";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { newSessionId, ROOT, requireBuild } from "../reaper/helpers.js";
import { cannotRunDedicatedEngine, DedicatedEngine } from "./dedicated-engine.js";
import { startStallingRegistry } from "./stalling-registry.js";

const IMAGE = "busybox:latest";
/** Exits at once on SIGTERM, so an engine shutting down does not wait out the stop timeout. */
const SERVICE = ["sh", "-c", "trap 'exit 0' TERM; echo ready; while true; do sleep 1; done"];
const NOTHING = { containers: [], images: [], networks: [], volumes: [] };
const skip = cannotRunDedicatedEngine();

/** `inner`, calling `entered` when the runner starts it: the container is then started and its wait under way. */
function announcing(inner: WaitStrategy, entered: () => void): WaitStrategy {
  return {
    describe: () => inner.describe(),
    waitUntilReady: (target, context) => {
      entered();
      return inner.waitUntilReady(target, context);
    },
    withStartupTimeout(ms: number) {
      inner.withStartupTimeout(ms);
      return this;
    },
    get startupTimeoutMs() {
      return inner.startupTimeoutMs;
    },
  };
}

function hostHasDocker0(): boolean {
  return existsSync("/sys/class/net/docker0");
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection, but it resolved");
}

/** Polls the docker CLI (not the code under test) until `check` holds or 30 s pass. */
async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe.skipIf(skip)("engine faults, on a dedicated dockerd", () => {
  let engine: DedicatedEngine;
  let hostBridgeBefore = false;
  const scratch: string[] = [];

  beforeAll(async () => {
    hostBridgeBefore = hostHasDocker0();
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
    for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
    await engine?.destroy();
  });

  it("a restart fails the starts and the exec in flight with EngineConnectionError; the next start works; the watchdog reaps the rest", async () => {
    requireBuild();
    const session = newSessionId();
    const tmp = mkdtempSync(join(tmpdir(), "tw-faults-run-"));
    scratch.push(tmp);
    const child = spawn(process.execPath, [join(ROOT, "test/support/fault-child.mjs")], {
      env: { ...process.env, DOCKER_HOST: engine.host, THROWAWAY_SESSION_ID: session, TMPDIR: tmp, THROWAWAY_REAPER: "on" },
      stdio: ["pipe", "pipe", "pipe"],
      detached: true,
    }) as ChildProcessWithoutNullStreams;
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const next = async () => {
      const line = await lines.next();
      if (line.done) throw new Error(`the child ended early:\n${stderr}`);
      return JSON.parse(line.value) as Record<string, unknown>;
    };
    const running = () => engine.docker("ps", "-q", "--filter", `label=${LABELS.session}=${session}`).split("\n").filter(Boolean);
    try {
      const first = await next();
      expect(first.session).toBe(session);
      // The ready container and the two whose waits are in flight.
      expect(running()).toHaveLength(3);

      await engine.stop();
      await engine.start();

      child.stdin.write("report\n");
      const outcome = (await next()) as {
        pending: { ok: boolean; name?: string; code?: string; shortMessage?: string }[];
        after: { ok: boolean; shortMessage?: string };
      };
      expect(
        outcome.pending.map((p) => p.code),
        JSON.stringify(outcome.pending, null, 2),
      ).toEqual([EngineConnectionError.CODE, EngineConnectionError.CODE, EngineConnectionError.CODE]);
      for (const failed of outcome.pending) expect(failed.shortMessage).toMatch(/engine .*went away/);
      expect(outcome.after, JSON.stringify(outcome.after)).toMatchObject({ ok: true });

      // The run ends badly (SIGKILL: no exit hooks): the session's watchdog removes what is left.
      expect(engine.docker("ps", "-aq", "--filter", `label=${LABELS.session}=${session}`)).not.toBe("");
      process.kill(-child.pid!, "SIGKILL");
      await until("the watchdog to remove the session's containers", () => engine.docker("ps", "-aq").length === 0);
      expect(engine.leftovers([IMAGE])).toEqual(NOTHING);
    } finally {
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, "SIGKILL");
    }
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

  it("a registry that hangs mid-pull fails the start with a typed pull timeout and leaves nothing", async () => {
    const registry = await startStallingRegistry(engine);
    vi.stubEnv("THROWAWAY_PULL_TIMEOUT", "3000");
    try {
      const error = await rejection(new GenericContainer(`${registry.host}/faults/stalled:1`).withCommand(SERVICE).start());
      expect(error).toBeInstanceOf(ImagePullError);
      const pull = error as ImagePullError;
      expect(pull.timeoutMs).toBe(3000);
      expect(pull.shortMessage).toMatch(/timed out after 3000 ms/);
      // It hung where it was meant to: in the layer download, after the manifest.
      expect(registry.stallsStarted()).toBeGreaterThan(0);
      expect(engine.leftovers([IMAGE])).toEqual(NOTHING);
    } finally {
      vi.stubEnv("THROWAWAY_PULL_TIMEOUT", undefined as unknown as string);
      await registry.close();
    }
  });

  it("a build that fills the engine's disk fails with ImageBuildError saying the disk is full", async () => {
    const before = engine.usedKiB();
    // The step fits, but committing it as a layer needs the same space again, which the 160 MiB root lacks; then a
    // step whose own write runs out of space.
    for (const step of ["RUN dd if=/dev/zero of=/fill bs=1M count=100", "RUN dd if=/dev/zero of=/fill bs=1M count=400"]) {
      const context = mkdtempSync(join(tmpdir(), "tw-faults-build-"));
      scratch.push(context);
      writeFileSync(join(context, "Dockerfile"), `FROM ${IMAGE}\n${step}\n`);
      const error = await rejection(new DockerfileBuilder(context).withBuildKit(false).buildImage());
      expect(error, String(error)).toBeInstanceOf(ImageBuildError);
      const build = error as ImageBuildError;
      expect(build.diskFull, build.message).toBe(true);
      expect(build.shortMessage).toMatch(/disk is full/);
      expect(engine.leftovers([IMAGE])).toEqual(NOTHING);
      // The failed step's container and half-written layer are gone: the space is free again.
      expect(engine.usedKiB()).toBeLessThan(before + 4096);
    }
  });

  it("an engine that vanishes for good fails every pending wait with EngineConnectionError before its deadline", async () => {
    const timeoutMs = 60_000;
    let waiting = 0;
    const builders = [
      new GenericContainer(IMAGE).withCommand(SERVICE).withWaitStrategy(announcing(Wait.forLogMessage("never printed"), () => waiting++)),
      new GenericContainer(IMAGE).withCommand(SERVICE).withWaitStrategy(announcing(Wait.forSuccessfulCommand("false"), () => waiting++)),
      new GenericContainer(IMAGE)
        .withCommand(SERVICE)
        .withHealthCheck({ test: ["CMD", "false"], intervalMs: 1000, retries: 1000 })
        .withWaitStrategy(announcing(Wait.forHealthCheck(), () => waiting++)),
    ];
    const started = Date.now();
    const pending = builders.map((builder) => rejection(builder.withStartupTimeout(timeoutMs).start()));
    await until("three waits under way", () => waiting === builders.length);
    await engine.vanish();
    const errors = await Promise.all(pending);
    const elapsedMs = Date.now() - started;
    for (const error of errors) {
      expect(error, String(error)).toBeInstanceOf(EngineConnectionError);
      expect((error as EngineConnectionError).endpoint).toBe(engine.host);
      expect((error as EngineConnectionError).shortMessage).toMatch(/engine .*went away/);
    }
    // The bound is the wait's own deadline, not a speed claim: a wait that ignored the lost engine would run to it.
    expect(elapsedMs).toBeLessThan(timeoutMs);
  });

  it("leaves the host's network alone: the main engine's docker0 is still there", () => {
    // A dockerd in the host's network namespace deletes docker0 when given --bridge=none; this one has its own.
    expect(hostHasDocker0()).toBe(hostBridgeBefore);
  });
});
