import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GenericContainer } from "throwaway";
import { afterAll, beforeAll, expect, it } from "vitest";

const RUN = `${process.pid}-${Date.now()}`;
const IDLE = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"];
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "throwaway-build-id-"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Builds a one-file image unique to this run and case. */
async function buildMarked(name: string) {
  const context = join(dir, name);
  await import("node:fs/promises").then((fs) => fs.mkdir(context));
  await writeFile(join(context, "Dockerfile"), `FROM busybox:latest\nRUN echo ${name}-${RUN} > /marker\n`);
  return GenericContainer.fromDockerfile(context).build();
}

it("containers run the built image by id even after another process moved its tag", async () => {
  const container = await buildMarked("moved");
  const image = container.builtImage;
  try {
    // Another worker builds something else under the same name.
    execFileSync("docker", ["tag", "busybox:latest", image.name]);
    const result = await container.withCommand(["cat", "/marker"]).withNetworkMode("none").run();
    expect(result.stdout).toBe(`moved-${RUN}\n`);
  } finally {
    execFileSync("docker", ["rmi", image.name]); // the moved name only: busybox keeps its own
    await image.remove();
  }
});

it("containers still start after another process's teardown deleted the tag of an image in use", async () => {
  const container = await buildMarked("deleted");
  const image = container.builtImage;
  const first = await container.withCommand(IDLE).withNetworkMode("none").start();
  try {
    // The other worker's exit hooks remove the image: the engine untags it and keeps it for the running container.
    execFileSync("docker", ["rmi", "-f", image.name]);
    const result = await image.container().withCommand(["cat", "/marker"]).withNetworkMode("none").run();
    expect(result.stdout).toBe(`deleted-${RUN}\n`);
  } finally {
    await first.stop();
    await image.remove();
  }
});
