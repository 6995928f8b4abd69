// A fresh test process in miniature: import the library, start one busybox httpd with a port wait, make the first
// request, stop and remove it, exit. The orchestrator times the whole process (spawn to exit); this script reports
// the parts and its peak RSS on its last stdout line.
const boot = performance.now();

import { HTTPD_COMMAND } from "../lib/config.mjs";
import { untilHttpOk } from "../lib/probe.mjs";

const side = await import(`../sides/${process.argv[2]}.mjs`);
const t0 = performance.now();
await side.load();
const t1 = performance.now();
const handle = await side.startHttpd({ command: HTTPD_COMMAND, wait: "port" });
let failures = 0;
try {
  if (!handle.served) ({ failures } = await untilHttpOk(handle.host, handle.port));
} catch (error) {
  await handle.stop().catch(() => {});
  throw error;
}
const t2 = performance.now();
await handle.stop();
const t3 = performance.now();
const apiCalls = await side.apiCallCount();
const result = {
  values: {
    import: t1 - t0,
    start: t2 - t1,
    stop: t3 - t2,
    rss: process.resourceUsage().maxRSS / 1024,
    ...(apiCalls !== undefined ? { apiCalls } : {}),
  },
  info: { bootMs: boot, failedRequestsAfterReady: failures },
};
process.stdout.write(`\n${JSON.stringify(result)}\n`);
