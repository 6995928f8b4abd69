import { GenericContainer, Wait } from "throwaway";
import { expect, it } from "vitest";
import { logsSinceAfter } from "../../src/container/log-cursor.js";

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

it("the log cursor is one nanosecond past the engine's timestamp", () => {
  expect(logsSinceAfter("2026-12-04T16:36:23.123456789Z ready")).toBe(`${Date.UTC(2026, 11, 4, 16, 36, 23) / 1000}.123456790`);
  expect(logsSinceAfter("2026-12-04T16:36:23.999999999Z x")).toBe(`${Date.UTC(2026, 11, 4, 16, 36, 24) / 1000}.000000000`);
  // RFC 3339 with trailing zeros trimmed, and an offset.
  expect(logsSinceAfter("2026-12-04T17:36:23.5+01:00 x")).toBe(`${Date.UTC(2026, 11, 4, 16, 36, 23) / 1000}.500000001`);
  expect(logsSinceAfter("2026-12-04T16:36:23Z x")).toBe(`${Date.UTC(2026, 11, 4, 16, 36, 23) / 1000}.000000001`);
  expect(logsSinceAfter("no timestamp here")).toBeUndefined();
});
