import { GenericContainer, Wait } from "throwaway";
import { expect, it } from "vitest";

it("restart() with a log wait waits for a line printed after the restart, not one from before", async () => {
  // The first run prints `ready` every 20 ms until it is killed, so lines from just before the restart exist; the
  // second run prints it once, 2 s in, after leaving a mark.
  const script =
    "if [ -f /started ]; then sleep 2; touch /second-ready; echo ready; sleep 600; " +
    "else touch /started; while true; do echo ready; usleep 20000; done; fi";
  await using c = await new GenericContainer("busybox:latest")
    .withCommand(["sh", "-c", script])
    .withNetworkMode("none")
    .withWaitStrategy(Wait.forLogMessage("ready"))
    .start();
  await c.restart();
  const mark = await c.exec(["test", "-f", "/second-ready"]);
  expect(mark.exitCode, "restart() resolved before the restarted container printed `ready`").toBe(0);
});
