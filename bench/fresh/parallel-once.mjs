// The parallel workload in a fresh process: import the library, start ten busybox httpd at once (port wait), make
// each one's first request, stop and remove them all at once, exit. Its peak RSS is what a test file that starts
// its containers side by side pays in memory; the last stdout line carries it with the parts' times.
const boot = performance.now();

import { HTTPD_COMMAND, PARALLEL_COUNT } from "../lib/config.mjs";
import { untilHttpOk } from "../lib/probe.mjs";

const side = await import(`../sides/${process.argv[2]}.mjs`);
const t0 = performance.now();
await side.load();
const t1 = performance.now();
const settled = await Promise.allSettled(
  Array.from({ length: PARALLEL_COUNT }, async () => {
    const handle = await side.startHttpd({ command: HTTPD_COMMAND, wait: "port" });
    try {
      const { failures } = handle.served ? { failures: 0 } : await untilHttpOk(handle.host, handle.port);
      return { handle, failures };
    } catch (error) {
      await handle.stop().catch(() => {});
      throw error;
    }
  }),
);
const t2 = performance.now();
const started = settled.filter((s) => s.status === "fulfilled").map((s) => s.value);
await Promise.all(started.map(({ handle }) => handle.stop()));
const t3 = performance.now();
const failed = settled.find((s) => s.status === "rejected");
if (failed) throw failed.reason;
const result = {
  values: { import: t1 - t0, start: t2 - t1, stop: t3 - t2, rss: process.resourceUsage().maxRSS / 1024 },
  info: { bootMs: boot, failedRequestsAfterReady: started.reduce((sum, s) => sum + s.failures, 0) },
};
process.stdout.write(`\n${JSON.stringify(result)}\n`);
