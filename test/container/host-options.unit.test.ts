// Host options are checked at start(), before anything reaches the engine; what they do in a container is
// host-options.test.ts.
import { GenericContainer, InvalidOptionError } from "throwaway";
import { describe, expect, it } from "vitest";

function busybox(): GenericContainer {
  return new GenericContainer("busybox:latest").withCommand(["sleep", "600"]);
}

describe("host options", () => {
  it.each([
    [() => busybox().withUlimits({ nofile: { soft: 10, hard: 5 } }), "withUlimits({ nofile })"],
    [() => busybox().withUlimits({ "no file": { soft: 1, hard: 1 } }), "withUlimits"],
    [() => busybox().withSecurityOpt(""), "withSecurityOpt"],
    [() => busybox().withIpcMode("shared"), "withIpcMode"],
    [() => busybox().withAutoRemove("no" as never), "withAutoRemove"],
  ])("bad values are InvalidOptionErrors naming the option (%#)", async (make, option) => {
    const error = await make()
      .start()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).option).toBe(option);
  });
});
