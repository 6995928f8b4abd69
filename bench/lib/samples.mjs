import { existsSync } from "node:fs";
import {
  benchRunId,
  DELAYED_HTTPD_COMMAND,
  HTTPD_COMMAND,
  PARALLEL_COUNT,
  READY_MARKER,
  USERS_SERVICE_BUNDLE,
  usersServiceTag,
} from "./config.mjs";
import { assertOnEngine, logLineTime } from "./docker.mjs";
import { epochNow, retryUntil, untilHttpOk } from "./probe.mjs";
import { Skip } from "./skip.mjs";

/**
 * One sample of each workload, written once against the small adapter every side implements (`sides/*.mjs`):
 * `startHttpd`, `startMysql`, `buildUsersService`, `removeImage`. So all sides are timed by the same code, around
 * the same calls, and the only difference is the side.
 *
 * Each function returns `{ values, info }`: `values` are the timed metrics (ms), `info` what explains them (how many
 * requests failed after "ready", whether a build was a cache hit).
 */

/**
 * The first successful request after "ready". For the libraries it should succeed at once (a failure means the wait
 * said "ready" too early); for the CLI the readiness loop already made it.
 */
async function firstRequest(handle) {
  if (handle.served) return { readinessPolls: handle.pollFailures ?? 0 };
  const { failures } = await untilHttpOk(handle.host, handle.port);
  return { failedRequestsAfterReady: failures };
}

async function stopAfterFailure(handle, error) {
  await handle.stop().catch(() => {});
  throw error;
}

/** Workload 1: busybox httpd, start (with a port wait) to first successful request; then stop and remove. */
export async function busybox(side) {
  const t0 = performance.now();
  const handle = await side.startHttpd({ command: HTTPD_COMMAND, wait: "port" });
  const info = await firstRequest(handle).catch((error) => stopAfterFailure(handle, error));
  const t1 = performance.now();
  await assertOnEngine(handle.id).catch((error) => stopAfterFailure(handle, error));
  const t2 = performance.now();
  await handle.stop();
  const t3 = performance.now();
  return { values: { start: t1 - t0, stop: t3 - t2 }, info };
}

/** Workload 5: ten busybox httpd started at once, to the last first successful request; then all stopped at once. */
export async function parallel(side) {
  const t0 = performance.now();
  const settled = await Promise.allSettled(
    Array.from({ length: PARALLEL_COUNT }, async () => {
      const handle = await side.startHttpd({ command: HTTPD_COMMAND, wait: "port" });
      const info = await firstRequest(handle).catch((error) => stopAfterFailure(handle, error));
      return { handle, info };
    }),
  );
  const t1 = performance.now();
  const started = settled.filter((s) => s.status === "fulfilled").map((s) => s.value);
  const failed = settled.find((s) => s.status === "rejected");
  await Promise.all(started.map(({ handle }) => handle.stop()));
  const t2 = performance.now();
  if (failed) throw failed.reason;
  const counted = started.filter(({ info }) => info.failedRequestsAfterReady !== undefined);
  const info = counted.length
    ? { failedRequestsAfterReady: counted.reduce((sum, { info }) => sum + info.failedRequestsAfterReady, 0) }
    : {};
  return { values: { start: t1 - t0, stop: t2 - t1 }, info };
}

/**
 * Workload 6: how long after the service became ready each side notices. The container sleeps 1 s, prints a marker
 * and starts listening at once; the engine timestamps the marker line as it arrives (same host clock as ours), and
 * the latency is from that timestamp to the moment `start()` (or the CLI's loop) returns.
 * @param {{ kind: "port" | "log" }} params
 */
export async function readiness(side, { kind }) {
  const handle = await side.startHttpd({ command: DELAYED_HTTPD_COMMAND, wait: kind });
  const readyAt = epochNow();
  try {
    const markerAt = await logLineTime(handle.id, READY_MARKER);
    const info = kind === "port" ? await firstRequest(handle) : {};
    return { values: { latency: readyAt - markerAt }, info };
  } finally {
    await handle.stop();
  }
}

/** Queries `SELECT 1` on a new connection; resolves when the answer is 1. */
async function selectOne(mysql, endpoint) {
  const connection = await mysql.createConnection({
    host: endpoint.host,
    port: endpoint.port,
    user: endpoint.user,
    password: endpoint.password,
    database: endpoint.database,
    connectTimeout: 5000,
  });
  try {
    const [rows] = await connection.query("SELECT 1 AS one");
    if (rows?.[0]?.one !== 1) throw new Error(`SELECT 1 answered ${JSON.stringify(rows)}`);
  } finally {
    connection.destroy();
  }
}

async function query(mysql, endpoint, sql) {
  const connection = await mysql.createConnection({ ...endpoint, connectTimeout: 5000 });
  try {
    const [rows] = await connection.query(sql);
    return rows;
  } finally {
    connection.destroy();
  }
}

/**
 * Workloads 2 and 3: MySQL start to first `SELECT 1` (over mysql2, retried in a tight loop: for the CLI that loop is
 * the readiness check), then, where the side has it, snapshot and restore; then stop and remove.
 */
export async function mysql(side) {
  const { default: mysql2 } = await import("mysql2/promise");
  const t0 = performance.now();
  const handle = await side.startMysql();
  const values = {};
  const info = {};
  try {
    const { failures } = await retryUntil(() => selectOne(mysql2, handle), `SELECT 1 on ${handle.host}:${handle.port}`);
    values.start = performance.now() - t0;
    info[side.name === "cli" ? "readinessPolls" : "failedQueriesAfterReady"] = failures;
    await assertOnEngine(handle.id);
    if (handle.snapshot && handle.restore) {
      const endpoint = { host: handle.host, port: handle.port, user: handle.user, password: handle.password, database: handle.database };
      await query(mysql2, endpoint, "CREATE TABLE bench_rows (id INT PRIMARY KEY)");
      await query(mysql2, endpoint, "INSERT INTO bench_rows VALUES (1), (2), (3)");
      const s0 = performance.now();
      await handle.snapshot("bench");
      values.snapshot = performance.now() - s0;
      await query(mysql2, endpoint, "DELETE FROM bench_rows");
      const r0 = performance.now();
      const restored = await handle.restore("bench");
      const { failures: afterRestore } = await retryUntil(() => selectOne(mysql2, handle), "SELECT 1 after restore");
      values.restore = performance.now() - r0;
      info.failedQueriesAfterRestore = afterRestore;
      if (restored && typeof restored === "object")
        info.restore = { mode: restored.mode, restored: restored.restored, dropped: restored.dropped };
      const [row] = await query(mysql2, endpoint, "SELECT COUNT(*) AS n FROM bench_rows");
      if (Number(row?.n) !== 3) throw new Error(`restore() left ${row?.n} rows in bench_rows, expected the 3 of the snapshot`);
    } else if (side.name === "throwaway") {
      info.snapshot = "skipped: the MySQL container has no snapshot()/restore() yet";
    }
  } catch (error) {
    await stopAfterFailure(handle, error);
  }
  const t1 = performance.now();
  await handle.stop();
  values.stop = performance.now() - t1;
  return { values, info };
}

/**
 * Workload 4: building the users-service example's image, cold (`--no-cache`: every step afresh) and then again
 * unchanged (what every later test run does). The image is removed before and after, so each sample starts equal.
 */
export async function build(side) {
  if (!existsSync(USERS_SERVICE_BUNDLE)) {
    throw new Skip("examples/users-service/build/users-service.mjs is missing: bundle the example first (`npm run demo` does)");
  }
  const tag = usersServiceTag(benchRunId(), side.name);
  await side.removeImage(tag);
  try {
    const t0 = performance.now();
    await side.buildUsersService({ tag, cache: false });
    const t1 = performance.now();
    const again = await side.buildUsersService({ tag, cache: true });
    const t2 = performance.now();
    return { values: { cold: t1 - t0, rebuild: t2 - t1 }, info: { rebuildCacheHit: again.cached } };
  } finally {
    await side.removeImage(tag);
  }
}
