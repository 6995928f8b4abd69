import {
  BUSYBOX_IMAGE,
  benchLabels,
  HTTPD_PORT,
  MYSQL_ENV,
  MYSQL_IMAGE,
  MYSQL_PORT,
  MYSQL_STARTUP_TIMEOUT_MS,
  READY_MARKER,
  USERS_SERVICE_DIR,
} from "../lib/config.mjs";
import { docker } from "../lib/docker.mjs";

/**
 * testcontainers, the peer, with its best settings for this machine (set by the orchestrator and recorded in the
 * results): Ryuk off while ours is off, `TESTCONTAINERS_HOST_OVERRIDE=localhost` (without it, it runs alpine:3.14
 * to find the gateway because of /.dockerenv), default pull policy (never pulls a present image), no DEBUG.
 */

export const name = "testcontainers";

/** @type {typeof import("testcontainers") | undefined} */
let lib;

export async function load() {
  lib ??= await import("testcontainers");
  return lib;
}

/** The peer keeps no count of its own: the counting proxy counts it. */
export async function apiCallCount() {
  return undefined;
}

/**
 * @param {{ command: string[], wait: "port" | "log" }} options
 */
export async function startHttpd({ command, wait }) {
  const { GenericContainer, Wait } = await load();
  const container = await new GenericContainer(BUSYBOX_IMAGE)
    .withExposedPorts(HTTPD_PORT)
    .withCommand(command)
    .withLabels(benchLabels())
    .withWaitStrategy(wait === "log" ? Wait.forLogMessage(READY_MARKER) : Wait.forListeningPorts())
    .start();
  return {
    id: container.getId(),
    host: container.getHost(),
    port: container.getMappedPort(HTTPD_PORT),
    stop: async () => {
      await container.stop();
    },
  };
}

/**
 * What `@testcontainers/mysql`'s MySqlContainer does (it is a separate package, not installed here): expose 3306,
 * the official image's env, a 120 s startup timeout, and the default wait (listening ports: the image has no
 * HEALTHCHECK).
 */
export async function startMysql() {
  const { GenericContainer } = await load();
  const container = await new GenericContainer(MYSQL_IMAGE)
    .withExposedPorts(MYSQL_PORT)
    .withEnvironment(MYSQL_ENV)
    .withStartupTimeout(MYSQL_STARTUP_TIMEOUT_MS)
    .withLabels(benchLabels())
    .start();
  return {
    id: container.getId(),
    host: container.getHost(),
    port: container.getMappedPort(MYSQL_PORT),
    user: MYSQL_ENV.MYSQL_USER,
    password: MYSQL_ENV.MYSQL_PASSWORD,
    database: MYSQL_ENV.MYSQL_DATABASE,
    stop: async () => {
      await container.stop();
    },
  };
}

/**
 * `withCache(false)` is the peer's `--no-cache`. `deleteOnExit: false` because the bench removes the image itself
 * (with Ryuk off nothing would).
 * @param {{ tag: string, cache: boolean }} options
 */
export async function buildUsersService({ tag, cache }) {
  const { GenericContainer } = await load();
  await GenericContainer.fromDockerfile(USERS_SERVICE_DIR).withCache(cache).build(tag, { deleteOnExit: false });
  return { cached: false };
}

/** @param {string} tag */
export async function removeImage(tag) {
  await docker(["rmi", "-f", tag]).catch(() => {});
}
