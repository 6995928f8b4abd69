// A bad THROWAWAY_REUSE is refused at start(), before anything reaches the engine; what the variable does is
// reuse-env.test.ts.
import { GenericContainer, InvalidOptionError } from "throwaway";
import { afterEach, describe, expect, it } from "vitest";

const saved = process.env.THROWAWAY_REUSE;

afterEach(() => {
  if (saved === undefined) delete process.env.THROWAWAY_REUSE;
  else process.env.THROWAWAY_REUSE = saved;
});

function reusable(tag: string): GenericContainer {
  return new GenericContainer("busybox:latest").withCommand(["sleep", "600"]).withEnvironment({ REUSE_ENV_TEST: tag });
}

describe("THROWAWAY_REUSE", () => {
  it("a bad value is an InvalidOptionError naming the variable", async () => {
    process.env.THROWAWAY_REUSE = "sometimes";
    const error = await reusable("bad")
      .withReuse()
      .start()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).option).toBe("THROWAWAY_REUSE");
  });
});
