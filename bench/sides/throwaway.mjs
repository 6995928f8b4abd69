import { BUSYBOX_IMAGE, benchLabels, HTTPD_PORT, READY_MARKER, USERS_SERVICE_DIR } from "../lib/config.mjs";
import { docker } from "../lib/docker.mjs";
import { Skip } from "../lib/skip.mjs";

/**
 * throwaway, as users run it: the built package (`dist/`, resolved through the package's own `exports`), imported
 * by its public name. Its settings come from the environment the orchestrator sets (`THROWAWAY_REAPER`,
 * `THROWAWAY_SESSION_ID`).
 */

export const name = "throwaway";

/** @type {typeof import("throwaway") | undefined} */
let lib;

/** Imports the library (the fresh-process workloads time this). */
export async function load() {
  lib ??= await import("throwaway");
  return lib;
}

/** Engine API calls made so far, by throwaway's own count. */
export async function apiCallCount() {
  return (await (await load()).getEngine()).apiCalls;
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

/** The MySQL module with its defaults (the image `mysql:5.7`, the official image's env contract). */
export async function startMysql() {
  let mod;
  try {
    mod = await import("throwaway/mysql");
  } catch (error) {
    throw new Skip(`throwaway/mysql cannot be imported yet (${firstLine(error)})`);
  }
  if (typeof mod.MySqlContainer !== "function") throw new Skip("throwaway/mysql does not export MySqlContainer yet");
  const container = await new mod.MySqlContainer().withLabels(benchLabels()).start();
  return {
    id: container.getId(),
    host: container.getHost(),
    port: container.getPort?.() ?? container.getMappedPort(3306),
    user: container.getUsername(),
    password: container.getUserPassword(),
    database: container.getDatabase(),
    snapshot: typeof container.snapshot === "function" ? (snapshotName) => container.snapshot(snapshotName) : undefined,
    restore: typeof container.restore === "function" ? (snapshotName) => container.restore(snapshotName) : undefined,
    stop: async () => {
      await container.stop();
    },
  };
}

/**
 * Builds the users-service example; `cache: false` is a cold build (every step afresh, and throwaway's own image
 * cache skipped), `cache: true` an ordinary build.
 * @param {{ tag: string, cache: boolean }} options
 */
export async function buildUsersService({ tag, cache }) {
  const { GenericContainer } = await load();
  if (typeof GenericContainer.fromDockerfile !== "function") throw new Skip("GenericContainer.fromDockerfile is not built yet");
  // No bench label here: a label is a build step of its own on the classic builder, and the peer's builder takes
  // none; the image is found again (and removed) by its tag.
  const builder = GenericContainer.fromDockerfile(USERS_SERVICE_DIR).withNoCache(!cache);
  const built = await builder.build(tag);
  return { cached: built.builtImage?.cached ?? false };
}

/** @param {string} tag */
export async function removeImage(tag) {
  await docker(["rmi", "-f", tag]).catch(() => {});
}

function firstLine(error) {
  return String(error instanceof Error ? error.message : error).split("\n")[0];
}
