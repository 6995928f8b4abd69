// The testcontainers names added for people moving a suite over, against the real engine: getHostname,
// getNetworkId, copyFilesToContainer/copyDirectoriesToContainer/copyContentToContainer, copyArchiveFromContainer.

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GenericContainer, InvalidOptionError, Network, Wait } from "throwaway";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { untarToMap } from "../../src/container/copy.js";

const IDLE = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"];
let hostDir: string;

beforeAll(async () => {
  hostDir = await mkdtemp(join(tmpdir(), "throwaway-tc-names-"));
  await writeFile(join(hostDir, "f.txt"), "file\n");
});

afterAll(async () => {
  await rm(hostDir, { recursive: true, force: true });
});

describe("testcontainers names", () => {
  it("getHostname and getNetworkId", async () => {
    await using network = await new Network().start();
    await using c = await new GenericContainer("busybox:latest")
      .withCommand(IDLE)
      .withHostname("named-host")
      .withNetwork(network)
      .withWaitStrategy(Wait.forSuccessfulCommand(["true"]))
      .start();
    expect(c.getHostname()).toBe("named-host");
    expect((await c.exec(["hostname"])).stdout.trim()).toBe("named-host");
    expect(c.getNetworkId(network.getName())).toBe(network.getId());
    expect(() => c.getNetworkId("no-such-network")).toThrow(InvalidOptionError);
  });

  it("copy*ToContainer into a running container and copyArchiveFromContainer back out", async () => {
    await using c = await new GenericContainer("busybox:latest")
      .withCommand(IDLE)
      .withWaitStrategy(Wait.forSuccessfulCommand(["true"]))
      .start();
    await c.copyFilesToContainer([{ source: join(hostDir, "f.txt"), target: "/in/f.txt" }]);
    await c.copyDirectoriesToContainer([{ source: hostDir, target: "/in/dir" }]);
    await c.copyContentToContainer([{ content: "content\n", target: "/in/c.txt", uid: 7 }]);
    const files = await untarToMap(await c.copyArchiveFromContainer("/in"));
    expect(Object.fromEntries([...files].map(([name, content]) => [name, content.toString()]))).toEqual({
      "in/f.txt": "file\n",
      "in/dir/f.txt": "file\n",
      "in/c.txt": "content\n",
    });
    expect((await c.exec(["stat", "-c", "%u", "/in/c.txt"])).stdout.trim()).toBe("7");
  });
});
