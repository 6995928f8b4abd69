// Its own file, so its own process and engine: the first health-check wait of a process is what is counted, before
// anything else could have asked the engine what it is.
import { GenericContainer, getEngine, Wait } from "throwaway";
import { expect, it } from "vitest";

it("the first health-check wait of a process asks the engine nothing beyond a plain start's calls", async () => {
  const engine = await getEngine();
  await new GenericContainer("busybox:latest")
    .withCommand(["sleep", "60"])
    .start()
    .then((c) => c.stop()); // warm
  const before = engine.apiCalls;
  const c = await new GenericContainer("busybox:latest")
    .withCommand(["sh", "-c", "touch /tmp/ready; exec sleep 60"])
    .withHealthCheck({ test: ["CMD", "test", "-f", "/tmp/ready"], intervalMs: 100 })
    .withWaitStrategy(Wait.forHealthCheck())
    .start();
  const calls = engine.apiCalls - before;
  await c.stop();
  // create, start, inspect, the exit long poll, the health events and the look after subscribing: who runs the
  // check (the engine, or throwaway on Podman) is known from the answers, not asked with /version and /info.
  expect(calls).toBeLessThanOrEqual(6);
});
