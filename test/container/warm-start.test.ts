// withWarmStart() on a plain GenericContainer (the mechanism is not MySQL's alone): busybox whose first run writes
// a random value to /state only when it is missing. Warm starts see the first run's value, copied files need not
// be copied again, and a file written after ready never reaches the cache. Cache images made here are removed.

import { execFileSync } from "node:child_process";
import { GenericContainer, LABELS, Wait } from "throwaway";
import { afterAll, expect, it } from "vitest";

const TOKEN = `${process.pid}-${Date.now()}`;

function cacheImageIds(): string[] {
  return execFileSync("docker", ["images", "-q", "--no-trunc", "--filter", `label=${LABELS.warmKey}`], { encoding: "utf8" })
    .split("\n")
    .filter(Boolean);
}

const before = new Set(cacheImageIds());
afterAll(() => {
  for (const id of new Set(cacheImageIds())) if (!before.has(id)) execFileSync("docker", ["rmi", "-f", id], { stdio: "ignore" });
});

function definition() {
  return new GenericContainer("busybox:latest")
    .withEnvironment({ TOKEN })
    .withCopyContentToContainer([{ content: "copied\n", target: "/copied.txt" }])
    .withCommand([
      "sh",
      "-c",
      "[ -f /state ] || head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \\n' > /state; touch /ready; exec sleep 3600",
    ])
    .withWaitStrategy(Wait.forSuccessfulCommand(["test", "-f", "/ready"]));
}

async function read(container: { exec(cmd: string[]): Promise<{ output: string }> }, path: string): Promise<string> {
  return (await container.exec(["cat", path])).output.trim();
}

it("later starts run from the first start's ready state, without what ran after it", async () => {
  const first = await definition().withWarmStart().start();
  const state = await read(first, "/state");
  await first.exec(["sh", "-c", "echo late > /late.txt"]);
  await first.stop();
  const made = cacheImageIds().filter((id) => !before.has(id));
  expect(made).toHaveLength(1);

  const warm = await definition().withWarmStart().start();
  try {
    expect(await read(warm, "/state")).toBe(state);
    expect(await read(warm, "/copied.txt")).toBe("copied");
    expect((await warm.exec(["test", "-e", "/late.txt"])).exitCode).toBe(1);
    const image = execFileSync("docker", ["inspect", "-f", "{{.Config.Image}}", warm.getId()], { encoding: "utf8" }).trim();
    expect(image).toMatch(/^localhost\/throwaway-warm\/busybox:[0-9a-f]{32}$/);
  } finally {
    await warm.stop();
  }

  // Without withWarmStart the same definition initialises afresh.
  const plain = await definition().start();
  try {
    expect(await read(plain, "/state")).not.toBe(state);
  } finally {
    await plain.stop();
  }
});

it("THROWAWAY_WARM_START=false turns withWarmStart() off: nothing is captured", async () => {
  const known = new Set(cacheImageIds());
  process.env.THROWAWAY_WARM_START = "false";
  try {
    const container = await definition()
      .withEnvironment({ TOKEN: `${TOKEN}-off` })
      .withWarmStart()
      .start();
    await container.stop();
  } finally {
    delete process.env.THROWAWAY_WARM_START;
  }
  expect(cacheImageIds().filter((id) => !known.has(id))).toEqual([]);
});
