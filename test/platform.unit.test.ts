import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GenericContainer, InvalidOptionError } from "throwaway";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isPlatform, normalizePlatform } from "../src/platform.js";

let context: string;
beforeAll(async () => {
  context = await mkdtemp(join(tmpdir(), "throwaway-platform-"));
  await writeFile(join(context, "Dockerfile"), "FROM busybox\n");
});
afterAll(async () => {
  await rm(context, { recursive: true, force: true });
});

/** The option check's verdict: `ok` when the value passed it (whatever failed after), else the error's message. */
async function verdict(run: () => Promise<unknown>): Promise<string> {
  const error = await run().then(
    () => undefined,
    (e: unknown) => e,
  );
  return error instanceof InvalidOptionError && error.message.includes("withPlatform") ? error.message : "ok";
}

// A value each check may see: engine-style platforms, mixed case, dashes, dotted variants, and malformed ones.
const VALUES = [
  "linux/amd64",
  "linux/arm64/v8",
  "Linux/AMD64",
  "linux/x86-64",
  "linux/arm/v7.1",
  "amd64",
  "linux/",
  "a/b/c/d",
  " linux/amd64",
];

describe("one platform check for containers and builds", () => {
  it("accepts os/arch[/variant] as the engine's parser does, and refuses the rest", () => {
    expect(VALUES.filter(isPlatform)).toEqual(["linux/amd64", "linux/arm64/v8", "Linux/AMD64", "linux/x86-64", "linux/arm/v7.1"]);
    expect(normalizePlatform("withPlatform", undefined)).toBeUndefined();
    expect(() => normalizePlatform("withPlatform", 42)).toThrow(InvalidOptionError);
  });

  it("GenericContainer.withPlatform and fromDockerfile().withPlatform give the same verdict for every value", async () => {
    for (const value of VALUES) {
      // A bad pull policy is checked right after the platform: the start fails there, before the engine is asked.
      const container = await verdict(() =>
        new GenericContainer("busybox")
          .withPlatform(value)
          .withPullPolicy("bogus" as "always")
          .start(),
      );
      // A missing Dockerfile fails a build after its options passed, before the engine is asked anything.
      const build = await verdict(() => GenericContainer.fromDockerfile(context, "missing.Dockerfile").withPlatform(value).buildImage());
      expect({ value, container: container === "ok" }).toEqual({ value, container: build === "ok" });
      expect(container).toBe(build);
      // Each refuses exactly what the shared rule refuses (so neither skips the check).
      expect({ value, passed: build === "ok" }).toEqual({ value, passed: isPlatform(value) });
    }
  });
});
