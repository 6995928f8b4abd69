// Wait.forStartupCheck against the real engine: a job that must exit 0, "running for N ms", a check that never
// passes (its reason in the timeout error) and a job that fails.

import { ContainerExitedError, GenericContainer, Wait, WaitTimeoutError } from "throwaway";
import { describe, expect, it } from "vitest";

function busybox(script: string): GenericContainer {
  return new GenericContainer("busybox:latest").withCommand(["sh", "-c", script]);
}

describe("Wait.forStartupCheck", () => {
  it("waits for a job to exit 0 when told that exiting is the point", async () => {
    const seen: string[] = [];
    await using job = await busybox("sleep 0.3; echo done")
      .withWaitStrategy(
        Wait.forStartupCheck(
          (inspect) => {
            seen.push(inspect.State.Status);
            return inspect.State.Status === "exited" && inspect.State.ExitCode === 0;
          },
          { exits: true, name: "job exited 0" },
        ),
      )
      .start();
    expect(seen.at(-1)).toBe("exited");
    expect(seen[0]).toBe("running");
    expect(job.getId()).toBeTruthy();
  });

  it("waits until the container has been running for a while", async () => {
    let lastRunningMs = 0;
    await using c = await busybox("sleep 60")
      .withWaitStrategy(
        Wait.forStartupCheck((inspect) => {
          lastRunningMs = Date.now() - Date.parse(inspect.State.StartedAt);
          return lastRunningMs >= 300 || `running for ${lastRunningMs} ms`;
        }),
      )
      .start();
    expect(lastRunningMs).toBeGreaterThanOrEqual(300);
    expect((await c.exec(["true"])).exitCode).toBe(0);
  });

  it("a check that never passes times out with its own reason and name", async () => {
    const error = await busybox("sleep 60")
      .withWaitStrategy(Wait.forStartupCheck(() => "the moon is not full", { name: "moon phase" }).withStartupTimeout(500))
      .start()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect((error as WaitTimeoutError).message).toContain("startup check moon phase");
    expect((error as WaitTimeoutError).message).toContain("the moon is not full");
  });

  it("a job exiting non-zero fails at once, even with exits: true", async () => {
    const error = await busybox("exit 3")
      .withWaitStrategy(Wait.forStartupCheck((i) => i.State.Status === "exited" && i.State.ExitCode === 0, { exits: true }))
      .start()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContainerExitedError);
    expect((error as ContainerExitedError).exitCode).toBe(3);
  });
});
