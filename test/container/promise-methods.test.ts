import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GenericContainer, InvalidOptionError } from "throwaway";
import { DockerComposeEnvironment } from "throwaway/compose";
import { expect, it } from "vitest";

// A method that returns a Promise reports bad input by rejecting, never by throwing synchronously: callers that
// chain `.catch()` or collect promises for Promise.all must see the error there.

const IDLE = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"];

/** Calls `call`, which must not throw, and returns what its promise rejects with. */
async function rejection(call: () => Promise<unknown>): Promise<unknown> {
  let promise: Promise<unknown> | undefined;
  expect(() => {
    promise = call();
  }).not.toThrow();
  return promise?.then(
    () => new Error("expected a rejection"),
    (error: unknown) => error,
  );
}

it("the testcontainers copy methods reject a list that is not an array, naming the method", async () => {
  await using c = await new GenericContainer("busybox:latest").withCommand(IDLE).start();
  for (const method of ["copyFilesToContainer", "copyDirectoriesToContainer", "copyContentToContainer"] as const) {
    const error = await rejection(() => c[method](undefined as never));
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).option).toBe(`${method}(items)`);
  }
});

it("a compose environment's down() rejects a bad option, and a later down() still works", async () => {
  const dir = mkdtempSync(join(tmpdir(), "throwaway-compose-down-"));
  try {
    writeFileSync(join(dir, "compose.yaml"), `services:\n  idle:\n    image: busybox\n    command: ${JSON.stringify(IDLE)}\n`);
    const env = await new DockerComposeEnvironment(dir, "compose.yaml").withProjectName(`down-${process.pid}`).up();
    try {
      const error = await rejection(() => env.down({ removeVolumes: "yes" as never }));
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect((error as InvalidOptionError).option).toBe("down({ removeVolumes })");
    } finally {
      await env.down();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
