import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { ContainerExitedError, Engine, GenericContainer, getEngine, LABELS, setEngine } from "throwaway";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const script = new URL("../support/reuse-start.mjs", import.meta.url).pathname;
const ROUNDS = 20;
const PROCESSES = 4;
const RUN = `race-${process.pid}-${Date.now()}`;

/** Starts PROCESSES copies of the fixture at once; resolves with what each printed (and its first error line). */
async function race(key: string, mode = ""): Promise<string[]> {
  const env = { ...process.env, REUSE_NETWORK_MODE: "none" };
  const starts = Array.from({ length: PROCESSES }, () => run(process.execPath, [script, key, mode], { env }));
  return (await Promise.all(starts)).map(({ stdout, stderr }) =>
    stdout.startsWith("error") ? `${stdout.trim()} (${stderr.split("\n")[0]})` : stdout.trim(),
  );
}

/** This file's reusable containers (by the key in their environment). */
async function ours(): Promise<string[]> {
  const engine = await getEngine();
  const found = await engine.listContainers({ label: [LABELS.reuseHash] });
  const mine: string[] = [];
  for (const c of found) {
    const inspect = await engine.inspectContainer(c.Id).catch(() => undefined);
    if (inspect?.Config.Env?.some((e) => e.startsWith(`REUSE_KEY=${RUN}`))) mine.push(c.Id);
  }
  return mine;
}

afterAll(async () => {
  const engine = await getEngine();
  for (const id of await ours()) await engine.removeContainer(id, { force: true });
});

it(`${PROCESSES} processes starting the same reusable container share one, ${ROUNDS} rounds`, async () => {
  const problems: string[] = [];
  const engine = await getEngine();
  for (let round = 0; round < ROUNDS; round++) {
    const ids = await race(`${RUN}-ok-${round}`).catch((e: { stderr?: string }) => [
      `failed: ${e.stderr?.split("\n").find((line) => /Error/.test(line))}`,
    ]);
    if (new Set(ids).size !== 1 || !/^[0-9a-f]{64}$/.test(ids[0]!)) problems.push(`round ${round}: ${ids.join(", ")}`);
    for (const id of new Set(ids)) if (/^[0-9a-f]{64}$/.test(id)) await engine.removeContainer(id, { force: true });
  }
  expect(problems).toEqual([]);
});

it(`${PROCESSES} processes racing for a reusable container that exits at once each get ContainerExitedError, ${ROUNDS} rounds`, async () => {
  // The creator removes a container that never became ready; the others had found it and lost it under them
  // (a 404 or 409 "marked for removal"): each must get the container's real failure, from a container of its own.
  const problems: string[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const results = await race(`${RUN}-fail-${round}`, "fail");
    const odd = results.filter((r) => !r.startsWith(`error ${ContainerExitedError.CODE} `));
    if (odd.length > 0) problems.push(`round ${round}: ${odd.join(", ")}`);
  }
  expect(problems).toEqual([]);
  expect(await ours()).toEqual([]);
});

describe("the shared container vanishes under a process about to use it (its creator removed it)", () => {
  const IDLE = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"];
  const config = (key: string) =>
    new GenericContainer("busybox:latest")
      .withCommand(IDLE)
      .withNetworkMode("none")
      .withEnvironment({ REUSE_KEY: `${RUN}-${key}` })
      .withReuse();

  /** An engine of our own whose `method` first removes the container it is asked about, once, as the creator would. */
  async function engineRemovingOnce(method: "inspectContainer" | "startContainer", victim: () => string | undefined): Promise<Engine> {
    const shared = await getEngine();
    const engine = new Engine(shared.endpoint);
    const original = engine[method].bind(engine) as (id: string, signal?: AbortSignal) => Promise<unknown>;
    let done = false;
    (engine as unknown as Record<string, unknown>)[method] = async (id: string, signal?: AbortSignal) => {
      if (!done && id === victim()) {
        done = true;
        await shared.removeContainer(id, { force: true });
      }
      return original(id, signal);
    };
    return engine;
  }

  it.each(["inspectContainer", "startContainer"] as const)("removed before our %s: start() makes its own", async (method) => {
    const theirs = await config(method).start();
    if (method === "startContainer") await (await getEngine()).stopContainer(theirs.getId(), 0); // so we start it
    setEngine(await engineRemovingOnce(method, () => theirs.getId()));
    try {
      const ours = await config(method).start();
      expect(ours.getId()).not.toBe(theirs.getId());
      expect(ours.getInspectResult().State.Running).toBe(true);
    } finally {
      setEngine(undefined);
    }
  });
});
