import { build, busybox, mysql, parallel, readiness } from "../lib/samples.mjs";

/**
 * A long-lived process for one side: the in-process workloads run here, one sample per request from the
 * orchestrator (over IPC), so a sample pays what a test pays inside a warm test process and nothing more. Each side
 * gets its own process: their libraries, event loops and memory never mix.
 */

const samples = { build, busybox, mysql, parallel, readiness };
const sideName = process.argv[2];
const side = await import(`./${sideName}.mjs`);

process.on("message", async (message) => {
  const { id, workload, params } = message;
  try {
    const fn = Object.hasOwn(samples, workload) ? samples[workload] : undefined;
    if (typeof fn !== "function") throw new Error(`unknown workload ${workload}`);
    const result = await fn(side, params ?? {});
    process.send({ id, ok: true, result });
  } catch (error) {
    process.send({
      id,
      ok: false,
      skip: error?.skip === true,
      error:
        error instanceof Error
          ? `${error.message}${error.stack ? `\n${error.stack.split("\n").slice(1, 6).join("\n")}` : ""}`
          : String(error),
    });
  }
});
process.on("disconnect", () => process.exit(0));
process.send({ ready: true, node: process.version });
