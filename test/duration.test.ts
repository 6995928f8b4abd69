import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GenericContainer, InvalidOptionError } from "throwaway";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

const IDLE = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"];
const RUN = `${process.pid}-${Date.now()}`;
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
  for (const name of ["THROWAWAY_PULL_TIMEOUT", "THROWAWAY_BUILD_TIMEOUT", "THROWAWAY_PUSH_TIMEOUT", "THROWAWAY_REAPER_GRACE"]) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});

async function dockerfile(name: string): Promise<string> {
  const dir = join(scratch, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "Dockerfile"), `FROM busybox:latest\nRUN echo duration-${name}-${RUN}\n`);
  return dir;
}

describe("every duration goes through one validator: whole ms, capped, a typed error naming it", () => {
  it("a fractional THROWAWAY_PULL_TIMEOUT is rounded, not a RangeError from the timer", async () => {
    process.env.THROWAWAY_PULL_TIMEOUT = "60000.5";
    await using c = await new GenericContainer("busybox:latest").withCommand(IDLE).withPullPolicy("always").start();
    expect(c.getId()).toMatch(/^[0-9a-f]{64}$/);
  });

  it("a fractional withBuildTimeout is rounded, not a RangeError from the timer", async () => {
    const image = await GenericContainer.fromDockerfile(await dockerfile("fraction"))
      .withBuildTimeout(60_000.5)
      .buildImage();
    await image.remove();
  });

  it("a THROWAWAY_PULL_TIMEOUT past 2^31-1 ms is refused (it would fire at once)", async () => {
    process.env.THROWAWAY_PULL_TIMEOUT = String(OVER);
    const error = await new GenericContainer("busybox:latest")
      .withPullPolicy("always")
      .start()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).option).toBe("THROWAWAY_PULL_TIMEOUT");
    expect((error as InvalidOptionError).shortMessage).toBe(
      'Expected `THROWAWAY_PULL_TIMEOUT` to be a duration in milliseconds from 1 to 2147483647, got `"2147483648"` (string): durations are whole milliseconds, e.g. 30000 for 30 s',
    );
  });

  it("THROWAWAY_REAPER_GRACE shares the validator (with its own ceiling of an hour)", async () => {
    process.env.THROWAWAY_REAPER_GRACE = "3600001";
    const error = await new GenericContainer("busybox:latest").start().catch((e: unknown) => e);
    expect((error as InvalidOptionError).shortMessage).toBe(
      'Expected `THROWAWAY_REAPER_GRACE` to be a duration in milliseconds from 0 to 3600000, got `"3600001"` (string): durations are whole milliseconds, e.g. 30000 for 30 s',
    );
  });
});
