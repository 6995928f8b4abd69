import { spawn } from "node:child_process";
import {
  BENCH_LABEL,
  BUSYBOX_IMAGE,
  benchRunId,
  HTTPD_PORT,
  MYSQL_ENV,
  MYSQL_IMAGE,
  MYSQL_PORT,
  READY_MARKER,
  USERS_SERVICE_DIR,
} from "../lib/config.mjs";
import { docker } from "../lib/docker.mjs";
import { untilHttpOk } from "../lib/probe.mjs";

/**
 * The floor: the docker CLI doing the same job, as a careful script would. `docker run -d -p 127.0.0.1::PORT`,
 * `docker port` for the host port, then a client polling in a tight loop (every 2 ms) until the service answers.
 * Every `docker` call is a process spawn; that is the cost a library with a long-lived client does not pay.
 */

export const name = "cli";

/**
 * Where published ports are bound and reached: 127.0.0.1 on this machine's engines; on a remote engine (the
 * orchestrator sets THROWAWAY_BENCH_PUBLISH=all and THROWAWAY_BENCH_HOST) all of its interfaces, reached at its
 * address, since its 127.0.0.1 is not ours.
 */
const HOST = process.env.THROWAWAY_BENCH_HOST || "127.0.0.1";
/** @param {number} port */
const publish = (port) => (process.env.THROWAWAY_BENCH_PUBLISH === "all" ? String(port) : `127.0.0.1::${port}`);

/** Nothing to import: the CLI is a binary. */
export async function load() {
  return undefined;
}

export async function apiCallCount() {
  return undefined;
}

/** @param {string} id @param {number} port */
async function hostPort(id, port) {
  const out = await docker(["port", id, `${port}/tcp`]);
  const line = out.split("\n").find((l) => l.startsWith("127.0.0.1:")) ?? out.split("\n")[0] ?? "";
  const mapped = Number(line.slice(line.lastIndexOf(":") + 1));
  if (!Number.isInteger(mapped) || mapped <= 0) throw new Error(`docker port ${id.slice(0, 12)} ${port} printed ${JSON.stringify(out)}`);
  return mapped;
}

/** @param {string} id @param {string} marker resolves when the container's output contains `marker` */
function followLogsUntil(id, marker) {
  return new Promise((resolve, reject) => {
    const child = spawn("docker", ["logs", "--follow", id], { stdio: ["ignore", "pipe", "pipe"] });
    let seen = "";
    let done = false;
    const onData = (chunk) => {
      seen = (seen + chunk.toString("utf8")).slice(-4096);
      if (!done && seen.includes(marker)) {
        done = true;
        child.kill();
        resolve(undefined);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("error", reject);
    child.on("exit", (code) => {
      if (!done) reject(new Error(`docker logs --follow ${id.slice(0, 12)} ended (exit ${code}) before ${JSON.stringify(marker)}`));
    });
  });
}

/** @param {string} id */
function remover(id) {
  return async () => {
    await docker(["rm", "--force", "--volumes", id]);
  };
}

/**
 * @param {{ command: string[], wait: "port" | "log" }} options
 */
export async function startHttpd({ command, wait }) {
  const id = await docker([
    "run",
    "--detach",
    "--label",
    `${BENCH_LABEL}=${benchRunId()}`,
    "--publish",
    publish(HTTPD_PORT),
    BUSYBOX_IMAGE,
    ...command,
  ]);
  const stop = remover(id);
  try {
    if (wait === "log") {
      const [port] = await Promise.all([hostPort(id, HTTPD_PORT), followLogsUntil(id, READY_MARKER)]);
      return { id, host: HOST, port, stop };
    }
    const port = await hostPort(id, HTTPD_PORT);
    const { failures } = await untilHttpOk(HOST, port);
    // The readiness loop's own successful request is the first successful request.
    return { id, host: HOST, port, stop, served: true, pollFailures: failures };
  } catch (error) {
    await stop().catch(() => {});
    throw error;
  }
}

/** The client's SELECT 1 loop (run by the workload) is the CLI side's readiness check. */
export async function startMysql() {
  const env = Object.entries(MYSQL_ENV).flatMap(([k, v]) => ["--env", `${k}=${v}`]);
  const id = await docker([
    "run",
    "--detach",
    "--label",
    `${BENCH_LABEL}=${benchRunId()}`,
    "--publish",
    publish(MYSQL_PORT),
    ...env,
    MYSQL_IMAGE,
  ]);
  const stop = remover(id);
  try {
    const port = await hostPort(id, MYSQL_PORT);
    return {
      id,
      host: HOST,
      port,
      user: MYSQL_ENV.MYSQL_USER,
      password: MYSQL_ENV.MYSQL_PASSWORD,
      database: MYSQL_ENV.MYSQL_DATABASE,
      stop,
    };
  } catch (error) {
    await stop().catch(() => {});
    throw error;
  }
}

/**
 * `docker build` with the CLI's default builder on this engine (the classic one; `DOCKER_BUILDKIT` is not set).
 * @param {{ tag: string, cache: boolean }} options
 */
export async function buildUsersService({ tag, cache }) {
  await docker(["build", "--quiet", ...(cache ? [] : ["--no-cache"]), "--tag", tag, USERS_SERVICE_DIR]);
  return { cached: false };
}

/** @param {string} tag */
export async function removeImage(tag) {
  await docker(["rmi", "-f", tag]).catch(() => {});
}
