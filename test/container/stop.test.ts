import { EngineRequestError, GenericContainer, getEngine, InvalidOptionError } from "throwaway";
import { expect, it } from "vitest";

const IDLE = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"];

it("a bad stop option is reported and does not poison later stops (nor `await using`)", async () => {
  const engine = await getEngine();
  const c = await new GenericContainer("busybox:latest").withCommand(IDLE).start();
  try {
    const bad = await c.stop({ timeout: -1 }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(InvalidOptionError);
    expect((bad as InvalidOptionError).option).toBe("stop({ timeout })");
    const stopped = await c.stop();
    expect(stopped.removed).toBe(true);
    await expect(engine.inspectContainer(c.getId())).rejects.toMatchObject({ statusCode: 404 });
  } finally {
    await engine.removeContainer(c.getId(), { force: true });
  }
});

it("a stop the engine refuses quotes the engine's text once", async () => {
  const engine = await getEngine();
  const c = await new GenericContainer("busybox:latest").withCommand(IDLE).start();
  await engine.removeContainer(c.getId(), { force: true });
  const error = await c.stop({ remove: false }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(EngineRequestError);
  const { shortMessage, statusCode } = error as EngineRequestError;
  expect(statusCode).toBe(404);
  expect(shortMessage).toMatch(/^Stopping container [0-9a-f]{12} \(.*\) failed: /);
  expect(shortMessage.split("No such container")).toHaveLength(2);
});
