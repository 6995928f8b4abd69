// Durations refused before anything reaches the engine; the ones read on the way to it (pull timeout, reaper
// grace) and fractions that must reach a real timer are in duration.test.ts.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GenericContainer, InvalidOptionError, Wait } from "throwaway";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { HttpWaitStrategy } from "../src/wait/http.js";

const OVER = 2 ** 31; // one past the longest timer Node keeps: today it fires at once

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "throwaway-duration-"));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

const saved = { ...process.env };
afterEach(() => {
  for (const name of ["THROWAWAY_BUILD_TIMEOUT", "THROWAWAY_PUSH_TIMEOUT"]) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});

async function dockerfile(name: string): Promise<string> {
  const dir = join(scratch, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "Dockerfile"), "FROM busybox:latest\n");
  return dir;
}

describe("every duration goes through one validator: whole ms, capped, a typed error naming it", () => {
  it("a withBuildTimeout past 2^31-1 ms is refused, before anything is sent to the engine", async () => {
    const error = await GenericContainer.fromDockerfile(await dockerfile("over"))
      .withBuildTimeout(OVER)
      .buildImage()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).shortMessage).toBe(
      "Expected `withBuildTimeout` to be a duration in milliseconds from 1 to 2147483647, got `2147483648` (number): durations are whole milliseconds, e.g. 30000 for 30 s",
    );
  });

  it("THROWAWAY_BUILD_TIMEOUT and THROWAWAY_PUSH_TIMEOUT past the cap are refused, naming the variable", async () => {
    process.env.THROWAWAY_BUILD_TIMEOUT = "1e12";
    const error = await GenericContainer.fromDockerfile(await dockerfile("env-over"))
      .buildImage()
      .catch((e: unknown) => e);
    expect((error as InvalidOptionError).option).toBe("THROWAWAY_BUILD_TIMEOUT");
  });

  it("the other duration options refuse a value past the cap, and accept a fraction", () => {
    const cases: [string, () => unknown][] = [
      ["withStartupTimeout", () => Wait.forLogMessage("x").withStartupTimeout(OVER)],
      ["withReadTimeout(ms)", () => new HttpWaitStrategy("/", 80).withReadTimeout(OVER)],
    ];
    for (const [option, call] of cases) {
      const error = (() => {
        try {
          call();
        } catch (e) {
          return e;
        }
      })();
      expect(error, option).toBeInstanceOf(InvalidOptionError);
      expect((error as InvalidOptionError).option, option).toContain(option);
    }
    expect(() => Wait.forLogMessage("x").withStartupTimeout(1500.5)).not.toThrow();
    expect(Wait.forLogMessage("x").withStartupTimeout(1500.5).startupTimeoutMs).toBe(1501);
  });

  it("a container's withStartupTimeout past the cap is refused at start", async () => {
    const error = await new GenericContainer("busybox:latest")
      .withStartupTimeout(OVER)
      .start()
      .catch((e: unknown) => e);
    expect((error as InvalidOptionError).option).toBe("withStartupTimeout");
  });
});
