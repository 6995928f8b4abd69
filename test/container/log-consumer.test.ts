import { GenericContainer, getEngine, Wait } from "throwaway";
import { expect, it } from "vitest";

// The consumer used to follow the logs on a stream of its own, racing the wait's: start() could resolve (the wait
// had seen `ready`) before the consumer had any line. Lost in about one start of eight here, so many rounds.
const ROUNDS = 30;

it(`a log consumer has every line up to the one that made the container ready when start() resolves (${ROUNDS} rounds)`, async () => {
  const late: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const lines: string[] = [];
    await using c = await new GenericContainer("busybox:latest")
      .withCommand(["sh", "-c", "echo first; echo second >&2; echo ready; sleep 60"])
      .withNetworkMode("none")
      .withLogConsumer(({ line }) => lines.push(line))
      .withWaitStrategy(Wait.forLogMessage("ready"))
      .start();
    if (!lines.includes("ready") || !lines.includes("first")) late.push(round);
    expect(c.getId()).toBeTruthy();
  }
  expect(late, "rounds where start() resolved before the consumer saw the lines up to `ready`").toEqual([]);
});

it("a consumer and a log wait share one log stream (no extra Engine API call)", async () => {
  const engine = await getEngine();
  const build = () =>
    new GenericContainer("busybox:latest")
      .withCommand(["sh", "-c", "echo ready; sleep 60"])
      .withNetworkMode("none")
      .withWaitStrategy(Wait.forLogMessage("ready"));
  await (await build().start()).stop(); // warm
  let before = engine.apiCalls;
  const plain = await build().start();
  const withoutConsumer = engine.apiCalls - before;
  await plain.stop();
  before = engine.apiCalls;
  const consumed = await build()
    .withLogConsumer(() => {})
    .start();
  const withConsumer = engine.apiCalls - before;
  await consumed.stop();
  expect(withConsumer).toBe(withoutConsumer);
});

it("a consumer that throws stops receiving lines, and the start's log wait still sees its line", async () => {
  let calls = 0;
  await using c = await new GenericContainer("busybox:latest")
    .withCommand(["sh", "-c", "echo first; sleep 0.5; echo ready; sleep 60"])
    .withNetworkMode("none")
    .withLogConsumer(() => {
      calls++;
      throw new Error("consumer bug");
    })
    .withWaitStrategy(Wait.forLogMessage("ready"))
    .start();
  expect(calls).toBe(1);
  expect(c.getId()).toBeTruthy();
});
