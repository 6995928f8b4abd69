import { fileURLToPath } from "node:url";

/** What every side runs: the same images, the same commands, the same ports. */

export const BUSYBOX_IMAGE = "busybox:latest";
export const MYSQL_IMAGE = "mysql:5.7";
export const NODE_IMAGE = "node:20-bookworm-slim";

/** busybox httpd serving `ok` on 8080. `exec` so httpd is the container's main process (stop = kill it). */
export const HTTPD_COMMAND = ["sh", "-c", "mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www"];
export const HTTPD_PORT = 8080;

/** The line the readiness workload's container prints right before it starts listening. */
export const READY_MARKER = "bench-ready-marker";
/**
 * Sleeps first so every side's wait is already watching when readiness happens (the latency measured is then the
 * wait's own, not the start's), prints the marker, then listens at once.
 */
export const DELAYED_HTTPD_COMMAND = [
  "sh",
  "-c",
  `mkdir -p /www && echo ok > /www/index.html && sleep 1 && echo ${READY_MARKER} && exec httpd -f -p 8080 -h /www`,
];

/** The MySQL contract of the official image, as both libraries' MySQL modules use it by default. */
export const MYSQL_ENV = { MYSQL_DATABASE: "test", MYSQL_USER: "test", MYSQL_PASSWORD: "test", MYSQL_ROOT_PASSWORD: "test" };
export const MYSQL_PORT = 3306;
/** testcontainers' MySqlContainer sets this startup timeout; the peer's stand-in module does too. */
export const MYSQL_STARTUP_TIMEOUT_MS = 120_000;

/** Containers started in parallel by the parallel workload. */
export const PARALLEL_COUNT = 10;

/** The users-service example: the build context of the build workload. */
export const USERS_SERVICE_DIR = fileURLToPath(new URL("../../examples/users-service/", import.meta.url));
/** The tag a side's users-service image is built under in run `runId` (the leftovers check looks for these too). */
export function usersServiceTag(runId, side) {
  return `throwaway-bench/users-service:${runId}-${side}`;
}
export const USERS_SERVICE_BUNDLE = fileURLToPath(new URL("../../examples/users-service/build/users-service.mjs", import.meta.url));

/** Label on every container the bench creates, whichever side creates it: the leftovers check looks for it. Outside
 * `dev.throwaway.`, which throwaway reserves for its own labels. */
export const BENCH_LABEL = "throwaway-bench.run";

/** The run id every side labels its resources with (set by the orchestrator for its children). */
export function benchRunId() {
  const id = process.env.THROWAWAY_BENCH_RUN;
  if (!id) throw new Error("THROWAWAY_BENCH_RUN is not set: bench sides are started by bench/run.mjs");
  return id;
}

export function benchLabels() {
  return { [BENCH_LABEL]: benchRunId() };
}
