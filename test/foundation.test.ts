import { execFileSync } from "node:child_process";
import { GenericContainer, getEngine, getSessionId, ImageName, LABELS, type ProgressEvent } from "throwaway";
import { describe, expect, it } from "vitest";
import { pullImage } from "../src/engine/pull.js";

// The chain every other test stands on: an engine, the registry path for the images under their Docker Hub names
// (Docker Hub itself or, offline, the local mirror that scripts/engine.sh sets up), and a container that runs.
describe("foundation", () => {
  it.each(["busybox:latest", "mysql:5.7"])("pulls %s by its Docker Hub name through the engine", async (reference) => {
    const engine = await getEngine();
    const events: ProgressEvent[] = [];
    await pullImage(engine, ImageName.parse(reference), { timeoutMs: 120_000, onProgress: (event) => events.push(event) });
    expect(events.at(-1)?.status).toMatch(/^(Status: (Image is up to date|Downloaded newer image) for |Digest: )/);
    expect(events.every((e) => e.kind === "pull" && e.image === reference)).toBe(true);
    expect(await engine.inspectImage(reference)).toMatchObject({ Os: "linux" });
  });

  it("runs a busybox command, reads its output, and leaves no container behind", async () => {
    const marker = `foundation-${process.pid}-${Date.now()}`;
    const result = await new GenericContainer("busybox:latest")
      .withLabels({ "test.throwaway.marker": marker })
      .withCommand(["sh", "-c", "echo hello from $(uname -s)"])
      .run();
    expect(result).toMatchObject({ exitCode: 0, stdout: "hello from Linux\n" });
    const filters = ["--filter", `label=${LABELS.session}=${getSessionId()}`, "--filter", `label=test.throwaway.marker=${marker}`];
    const left = execFileSync("docker", ["ps", "-aq", ...filters], { encoding: "utf8" });
    expect(left.trim()).toBe("");
  });
});
