import { ContainerStateError, GenericContainer, InvalidOptionError, ThrowawayError } from "throwaway";
import { expect, it } from "vitest";

// A method called on a container in a state that cannot serve it is a ContainerStateError (its own code), not bad
// input: the arguments were fine, the container is not.

const IDLE = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"];

it("getFirstMappedPort() on a container with no exposed ports", async () => {
  await using c = await new GenericContainer("busybox:latest").withCommand(IDLE).start();
  let error: unknown;
  try {
    c.getFirstMappedPort();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ContainerStateError);
  expect(error).not.toBeInstanceOf(InvalidOptionError);
  const e = error as ContainerStateError;
  expect(e.code).toBe("THROWAWAY_CONTAINER_STATE");
  expect(e.method).toBe("getFirstMappedPort()");
  expect(e.containerId).toBe(c.getId());
  expect(e.shortMessage).toContain("no exposed ports");
  expect(e.shortMessage).toContain("withExposedPorts");
});

it("copyFromContainer() on a stopped container that stop() removed rejects (never throws synchronously)", async () => {
  const c = await new GenericContainer("busybox:latest").withCommand(IDLE).start();
  const stopped = await c.stop({ timeout: 0 });
  expect(stopped.removed).toBe(true);
  let copy: Promise<unknown> | undefined;
  expect(() => {
    copy = stopped.copyFromContainer("/etc/hostname");
  }).not.toThrow();
  const error = await copy?.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ContainerStateError);
  expect(error).toBeInstanceOf(ThrowawayError);
  expect((error as ContainerStateError).method).toBe("copyFromContainer()");
  expect((error as ContainerStateError).shortMessage).toContain("stop({ remove: false })");
});
