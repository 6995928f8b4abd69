// Counts Engine API calls per container start, as they cross the counting proxy this process's DOCKER_HOST points
// at. Two starts in one fresh process: the first pays discovery and setup, the second is the steady state every
// later test in the process sees. Between phases it asks the orchestrator (which owns the proxy) to mark the count.
import { HTTPD_COMMAND } from "../lib/config.mjs";
import { assertOnEngine } from "../lib/docker.mjs";

const side = await import(`../sides/${process.argv[2]}.mjs`);
await side.load();

let next = 0;
function mark(label) {
  const id = ++next;
  return new Promise((resolve) => {
    const onMessage = (message) => {
      if (message?.markId === id) {
        process.off("message", onMessage);
        resolve(undefined);
      }
    };
    process.on("message", onMessage);
    process.send({ mark: label, markId: id });
  });
}

const own = {};
const count = async () => (await side.apiCallCount()) ?? 0;
for (const phase of ["first", "warm"]) {
  await mark(`${phase}:start`);
  const before = await count();
  const handle = await side.startHttpd({ command: HTTPD_COMMAND, wait: "port" });
  const afterStart = await count();
  await mark(`${phase}:started`);
  // Counted by the side itself (no proxy in front of the engine): prove the start went to the bench's engine. Behind
  // a proxy this check would cross it and be counted, and it is not needed there: the proxy saw the calls.
  if (process.env.THROWAWAY_BENCH_OWN_COUNT === "1") {
    await assertOnEngine(handle.id).catch(async (error) => {
      // Wherever the side started it, it is removed before the sample fails.
      await handle.stop().catch(() => {});
      throw error;
    });
  }
  await handle.stop();
  const afterStop = await count();
  await mark(`${phase}:stopped`);
  own[phase] = { start: afterStart - before, stop: afterStop - afterStart };
}
process.send({ done: true, own: (await side.apiCallCount()) === undefined ? undefined : own });
process.disconnect();
